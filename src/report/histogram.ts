// Latency histogram as inline SVG: no script, no external request, readable from file://.
import { escapeHtml, formatMs } from './format.ts';

export interface HistogramOptions {
  /** @default 20 */
  bins?: number;
  /** Drawing size in CSS pixels. @default 640 */
  width?: number;
  /** @default 140 */
  height?: number;
}

export interface Bin {
  fromMs: number;
  toMs: number;
  count: number;
}

/**
 * Equal-width bins from the fastest latency to the 99th percentile; slower outliers go into the last bin,
 * so one stuck request cannot squash every other bar into the first column.
 */
export function latencyBins(latencies: readonly number[], bins = 20): Bin[] {
  const xs = latencies.filter((x) => Number.isFinite(x) && x >= 0).sort((a, b) => a - b);
  if (xs.length === 0) return [];
  const lo = xs[0] ?? 0;
  const hi = xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? lo;
  const n = hi > lo ? Math.max(1, Math.floor(bins)) : 1;
  const step = hi > lo ? (hi - lo) / n : 1;
  const out: Bin[] = Array.from({ length: n }, (_, i) => ({ fromMs: lo + i * step, toMs: lo + (i + 1) * step, count: 0 }));
  for (const x of xs) {
    const i = Math.min(n - 1, Math.floor((x - lo) / step));
    const bin = out[i];
    if (bin) bin.count++;
  }
  const last = out[n - 1];
  if (last) last.toMs = Math.max(last.toMs, xs[xs.length - 1] ?? last.toMs);
  return out;
}

/** The SVG markup, or a short note when there is nothing to draw. */
export function latencyHistogramSvg(latencies: readonly number[], options: HistogramOptions = {}): string {
  const bins = latencyBins(latencies, options.bins ?? 20);
  if (bins.length === 0) return '<p class="muted">No latencies to chart yet.</p>';
  const width = options.width ?? 640;
  const height = options.height ?? 140;
  const padBottom = 18;
  const padTop = 14;
  const chartH = height - padBottom - padTop;
  const maxCount = Math.max(...bins.map((b) => b.count), 1);
  const barW = width / bins.length;
  const rects = bins
    .map((b, i) => {
      const h = Math.round((b.count / maxCount) * chartH);
      const label = `${formatMs(b.fromMs)}–${formatMs(b.toMs)}: ${b.count} job${b.count === 1 ? '' : 's'}`;
      return (
        `<rect x="${(i * barW + 1).toFixed(1)}" y="${padTop + chartH - h}" width="${Math.max(1, barW - 2).toFixed(1)}" height="${h}">` +
        `<title>${escapeHtml(label)}</title></rect>`
      );
    })
    .join('');
  const first = bins[0];
  const last = bins[bins.length - 1];
  const axis =
    `<text x="0" y="${height - 4}">${escapeHtml(formatMs(first?.fromMs ?? 0))}</text>` +
    `<text x="${width}" y="${height - 4}" text-anchor="end">${escapeHtml(formatMs(last?.toMs ?? 0))}</text>` +
    `<text x="0" y="10">${maxCount}</text>`;
  return (
    `<svg class="histogram" role="img" aria-label="Latency histogram of ${latencies.length} jobs" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<line x1="0" x2="${width}" y1="${padTop + chartH + 0.5}" y2="${padTop + chartH + 0.5}"/>${rects}${axis}</svg>`
  );
}
