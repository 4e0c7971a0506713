// Keeps the API key out of every string we produce (messages, errors, logs), even when a server or
// a runtime error echoes it back.

/** Anything shaped like a Google API key, whether or not it is ours. */
const GOOGLE_KEY_PATTERN = /AIza[0-9A-Za-z_-]{35}/g;

export const REDACTED = '[redacted]';

export type Redactor = (text: string) => string;

/**
 * Returns a function that replaces each secret (raw and URL-encoded) and anything that looks like a
 * Google API key with `[redacted]`. Secrets shorter than 4 characters are ignored: replacing them
 * would shred ordinary text while protecting nothing.
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
    return out.replace(GOOGLE_KEY_PATTERN, REDACTED);
  };
}

/** The redactor used when the caller has no secret to hand over (generic key shapes only). */
export const defaultRedactor: Redactor = createRedactor();
