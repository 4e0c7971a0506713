// The end-of-run table, shared by the tty and plain renderings and by `imagebatch batch`.
import type { RunSummary } from '../index.ts';
import { describeLines, formatCost, formatMs } from '../report/format.ts';

export function summaryLines(s: RunSummary, outDir?: string): string[] {
  const reasons = Object.entries(s.byReason)
    .filter(([, n]) => n)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  // The head and the first rows are about this input's jobs; "this run" and "folder" say which numbers are whose.
  const rows: [string, string][] = [
    ['succeeded', `${s.succeeded}${s.cached ? ` (${s.cached} from cache)` : ''}`],
    ['failed', `${s.failed}${reasons ? ` (${reasons})` : ''}`],
    ['skipped', `${s.skipped}${s.skipped ? ' (done by an earlier run)' : ''}`],
  ];
  if (s.run) rows.push(['this run', `${s.run.succeeded} saved${s.run.cached ? ` (${s.run.cached} from cache)` : ''}, ${s.run.failed} failed, ${s.run.attempts} attempts`]);
  rows.push(['attempts', String(s.attempts)], ['wall time', formatMs(s.wallMs)], ['rate', `${s.imagesPerMinute.toFixed(1)} images/min`]);
  const cost = formatCost(s.costUsd, s.unpriced);
  const runCost = s.run && formatCost(s.run.costUsd, s.run.unpriced);
  rows.push(['cost', runCost !== undefined && runCost !== cost ? `${runCost} this run (${cost} for these jobs over all runs)` : cost]);
  const f = s.folder;
  if (f && (f.jobs !== s.total || f.succeeded !== s.succeeded)) {
    rows.push(['folder', `${f.jobs} jobs from all runs: ${f.succeeded} succeeded, ${f.failed} failed, ${f.images} images`]);
  }
  if (f?.damaged) rows.push(['damaged', `${f.damaged} manifest line(s) skipped (${describeLines(f.damagedLines ?? [], f.damaged)})`]);
  if (outDir) rows.push(['output', outDir]);
  const head = `done: ${s.succeeded}/${s.total} succeeded${s.stoppedBy ? `, stopped by ${s.stoppedBy}` : ''}`;
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}`)];
}
