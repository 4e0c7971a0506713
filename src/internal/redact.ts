// The one redactor: keeps credentials out of every string we produce (messages, errors, logs, the manifest), even
// when a server or a runtime error echoes them back.

export const REDACTED = '[redacted]';

/**
 * Credential shapes hidden whoever they belong to. A label (`key=`, the header name, `Bearer `) is kept so the
 * message still says what was there; the value becomes `[redacted]`.
 */
const SHAPES: readonly [pattern: RegExp, replacement: string][] = [
  // Google API keys are "AIza" + 35 characters; a shorter tail is still a key cut short by a message limit.
  [/AIza[0-9A-Za-z_-]{20,}/g, REDACTED],
  // A key in a URL: ?key=… or &key=… (and OAuth's access_token=).
  [/([?&](?:key|access_token)=)[^&\s"'#]+/gi, `$1${REDACTED}`],
  // The key header written out: `x-goog-api-key: …`, or as JSON `"x-goog-api-key": "…"`.
  [/(x-goog-api-key["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, `$1${REDACTED}`],
  // OAuth bearer tokens (Vertex AI, service accounts), e.g. `Authorization: Bearer ya29.…`.
  [/(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
];

export type Redactor = (text: string) => string;

/**
 * Returns a function that replaces each given secret (raw and URL-encoded) and every credential shape above with
 * `[redacted]`. Secrets shorter than 4 characters are ignored: replacing them would shred ordinary text while
 * protecting nothing.
 */
export function createRedactor(secrets: readonly (string | undefined)[] = []): Redactor {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    needles.add(s);
    needles.add(encodeURIComponent(s));
  }
  // Longest first so a secret that contains another is replaced whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const n of ordered) out = out.split(n).join(REDACTED);
    for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
    return out;
  };
}

/** The redactor used when the caller has no secret to hand over (credential shapes only). */
export const defaultRedactor: Redactor = createRedactor();
