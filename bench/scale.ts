// Issue 13 benchmark, "Streaming at scale": runToDisk() over N prompts at zero latency, N = 1,000, 10,000 and
// 100,000 in one invocation, so that any per-job cost growing with N shows as a falling rate (overall and per 10 %
// slice of each run) or a rising CPU per image. Each run is its own child process (bench/scale-child.ts: its
// CPU and memory are the run's own) against a fresh emulator in another child process (its PNG and HTTP work are
// not ours). Standalone: node --import tsx bench/scale.ts [--sizes 1000,10000,100000] [--concurrency 32]
//   [--cpu-prof DIR]; `npm run bench -- --only scale` runs it with the defaults.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRemoteEmulator } from './lib/remote-emulator.ts';
import { fmt, markdownTable, mb } from './lib/stats.ts';
import { runChild } from './memory.ts';
import type { ScaleChildReport } from './scale-child.ts';

export interface ScaleBenchOptions {
  /** Prompts per run, in the order run; the first size is run once more at the end (load drift). @default [1000, 10_000, 100_000] */
  sizes?: number[];
  /** The concurrency ceiling (adaptive, as the CLI's --concurrency). @default 32 */
  concurrency?: number;
  /** Write a V8 CPU profile of each child run into this folder (node --cpu-prof). @default undefined */
  cpuProfDir?: string;
  /** @default console.error */
  log?: (line: string) => void;
}

export interface ScaleRow {
  label: string;
  report: ScaleChildReport;
  /** 1-minute load average when the run started. */
  load: number;
}

/** Images per second and CPU ms per image of each 10 % slice of a run. */
export function slicesOf(r: ScaleChildReport): { rate: number; cpuPerImage: number }[] {
  let prev = { results: 0, atMs: 0, cpuMs: 0 };
  return r.slices.map((s) => {
    const images = s.results - prev.results;
    const slice = { rate: (images * 1000) / (s.atMs - prev.atMs), cpuPerImage: (s.cpuMs - prev.cpuMs) / images };
    prev = s;
    return slice;
  });
}

export async function runScaleBench(o: ScaleBenchOptions = {}): Promise<ScaleRow[]> {
  const sizes = o.sizes ?? [1000, 10_000, 100_000];
  const concurrency = o.concurrency ?? 32;
  const log = o.log ?? ((l: string) => console.error(l));
  const plan = [...sizes.map((n) => ({ n, label: n.toLocaleString('en-US') })), ...(sizes.length > 1 ? [{ n: sizes[0]!, label: `${sizes[0]!.toLocaleString('en-US')} (again, last)` }] : [])];
  const rows: ScaleRow[] = [];
  for (const { n, label } of plan) {
    // A fresh emulator per run: nothing the emulator keeps per request can slow the later runs.
    const emu = await startRemoteEmulator({ seed: 1 });
    const dir = await mkdtemp(join(tmpdir(), 'imagebatch-bench-scale-'));
    try {
      const load = loadavg()[0] ?? Number.NaN;
      const args = ['--url', emu.url, '--out', join(dir, 'out'), '--n', String(n), '--concurrency', String(concurrency)];
      const report = await runChild<ScaleChildReport>('scale-child.ts', args, 'tsx', undefined, o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : []);
      if (report.failed > 0) log(`  N=${label}: ${report.failed} jobs failed (the emulator has no faults here: look at the manifest)`);
      rows.push({ label, report, load });
      const rates = slicesOf(report).map((x) => x.rate);
      log(
        `  N=${label}: ${report.succeeded}/${n} ok, ${fmt((n * 1000) / report.streamMs, 0)} images/s, slices ${rates.map((x) => fmt(x, 0)).join(' ')}, ` +
          `${fmt(report.streamCpuMs / n, 2)} CPU ms/image, end ${fmt(report.tailMs / 1000, 1)} s, peak RSS ${fmt(mb(report.streamPeakRss), 0)} MB streaming / ${fmt(mb(report.peakRss), 0)} MB with the end, load ${fmt(load, 1)}`,
      );
    } finally {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

export function scaleTable(rows: readonly ScaleRow[]): string {
  const base = rows[0] ? (rows[0].report.n * 1000) / rows[0].report.streamMs : Number.NaN;
  return markdownTable(
    ['N', 'saved', 'images/s', '÷ first row', 'images/s per 10 % slice', 'last ÷ first slice', 'CPU ms / image', 'CPU ms / image: first → last slice', 'end: summary + gallery (s)', 'peak RSS (MB): streaming / with the end', 'peak heapUsed (MB): streaming / with the end', 'heapUsed after a full GC at the last result (MB)', 'load'],
    rows.map(({ label, report: r, load }) => {
      const rate = (r.n * 1000) / r.streamMs;
      const slices = slicesOf(r);
      const rates = slices.map((x) => x.rate);
      return [
        label,
        `${r.succeeded} / ${r.n}`,
        fmt(rate, 0),
        fmt(rate / base, 2),
        rates.map((x) => fmt(x, 0)).join(' · '),
        fmt((rates.at(-1) ?? Number.NaN) / (rates[0] ?? Number.NaN), 2),
        fmt(r.streamCpuMs / r.n, 2),
        `${fmt(slices[0]?.cpuPerImage ?? Number.NaN, 2)} → ${fmt(slices.at(-1)?.cpuPerImage ?? Number.NaN, 2)}`,
        fmt(r.tailMs / 1000, 1),
        `${fmt(mb(r.streamPeakRss), 0)} / ${fmt(mb(r.peakRss), 0)}`,
        `${fmt(mb(r.streamPeakHeapUsed), 0)} / ${fmt(mb(r.peakHeapUsed), 0)}`,
        fmt(mb(r.settledHeapUsed), 1),
        fmt(load, 1),
      ];
    }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { sizes: { type: 'string' }, concurrency: { type: 'string' }, 'cpu-prof': { type: 'string' } } });
  const rows = await runScaleBench({
    sizes: values.sizes?.split(',').map(Number),
    concurrency: values.concurrency ? Number(values.concurrency) : undefined,
    cpuProfDir: values['cpu-prof'],
  });
  process.stdout.write(`${scaleTable(rows)}\n`);
}
