// Durations as text, in one place: Gemini's protobuf Duration strings ("47s", "0.5s", "45.837906927s"), and the
// durations people type and read (--deadline 24h, "1h30m"), parsed and formatted by one grammar.
import { OptionError } from '../errors.ts';

/** Returns milliseconds, or undefined for anything that is not a Duration string. */
export function parseDurationMs(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(s);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * 1000);
}

const DAY_MS = 24 * 3600 * 1000;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** "24h", "90m", "1h30m", "2d", "45s", "500ms" → ms. A bare number is seconds. */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (const m of t.matchAll(re)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = (m.index ?? 0) + m[0].length;
  }
  if (t === '' || end !== t.length) throw new OptionError('duration', text, 'a duration such as 24h, 90m, 1h30m, 2d or 45s');
  return Math.round(total);
}

/** ms → the shortest text parseDuration reads back: "2d", "24h", "90m", or whole seconds. */
export function formatDuration(ms: number): string {
  if (ms >= 2 * DAY_MS && ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
