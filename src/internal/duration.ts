// Gemini's protobuf Duration strings ("47s", "0.5s", "45.837906927s") are parsed here and only here.

/** Returns milliseconds, or undefined for anything that is not a Duration string. */
export function parseDurationMs(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(s);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * 1000);
}

/** Formats ms as a Duration string with up to nanosecond precision, trimming zeros ("47s", "0.5s"). */
export function formatDuration(ms: number): string {
  const secs = Math.max(0, ms) / 1000;
  const fixed = secs.toFixed(9).replace(/\.?0+$/, '');
  return `${fixed}s`;
}
