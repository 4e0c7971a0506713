// Text helpers shared by the summary and the gallery. Everything that lands in HTML goes through escapeHtml.

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for HTML element content AND quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON safe to embed in an inline <script>: `<` (so no `</script>` or `<!--`), `>`, `&` and the two
 * JavaScript line terminators become \u escapes, which JSON.parse reads back to the same string.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value ?? null).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalS = Math.round(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

/** Sub-dollar amounts keep 4 decimals: a single image costs $0.039 or $0.0195. */
export function formatUsd(usd: number): string {
  return `$${usd < 10 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** What of a cost is not known: answers (or images) billed at a price imagebatch does not know, and their models. */
export interface UnknownCost {
  answers: number;
  images: number;
  models: readonly string[];
}

/**
 * A cost that may be partly unknown: "$0.1200", "unknown (3 images of gemini-9-image: price not known)" or
 * "$0.1200 + unknown (…)". What is not known is never shown as $0.
 */
export function formatCost(usd: number, unknown?: UnknownCost): string {
  if (!unknown || (unknown.answers <= 0 && unknown.images <= 0)) return formatUsd(usd);
  const what = unknown.images > 0 ? `${unknown.images} image${unknown.images === 1 ? '' : 's'}` : `${unknown.answers} answer${unknown.answers === 1 ? '' : 's'}`;
  const models = unknown.models.length ? ` of ${unknown.models.join(', ')}` : '';
  const part = `unknown (${what}${models}: price not known)`;
  return usd > 0 ? `${formatUsd(usd)} + ${part}` : part;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** "line 3", "lines 3, 7, 12" or "lines 3, 7, … and 40 more": the first ten numbers, then how many more. */
export function describeLines(lines: readonly number[], count = lines.length): string {
  const shown = lines.slice(0, 10);
  const more = count - shown.length;
  const list = shown.length === 1 && more === 0 ? `line ${shown[0]}` : `lines ${shown.join(', ')}`;
  return more > 0 ? `${list} and ${more} more` : list;
}
