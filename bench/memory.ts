// Issue 4 benchmark, "Bounded memory": runToDisk() in a child process (so its RSS is the run's own), compiled and
// through tsx side by side, against an emulator in this process serving 3 MB images at zero latency; plus a large
// prompt file streamed through validateInput() + readJobs().
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../src/emulator/index.ts';
import type { InputChildReport } from './input-child.ts';
import { fmt, markdownTable, mb } from './lib/stats.ts';
import type { MemoryChildReport } from './memory-child.ts';

export interface MemoryBenchOptions {
  /** Jobs per run. @default 10_000 */
  jobs?: number;
  /** Where the heap is measured after full GCs. @default [100, 1000, jobs] */
  checkpoints?: number[];
  /** The heap ratio is heapUsed at `jobs` ÷ heapUsed at this checkpoint. @default 1000 */
  ratioFrom?: number;
  /** @default [4, 16] */
  concurrencies?: number[];
  /**
   * How the child runs: 'compiled' is tsc's output under plain node (as the installed package and its CLI run),
   * 'tsx' is the TypeScript source through tsx's loader (as a checkout of the repository runs). @default ['compiled', 'tsx']
   */
  runtimes?: Runtime[];
  /** Lines of the streamed prompt file (0: skip it). @default 100_000 */
  inputLines?: number;
  /** @default 3_000_000 */
  imageBytes?: number;
  /** The emulator gzips its answers, as the real API does (costs the emulator ~70 ms of CPU per 3 MB answer). @default false */
  gzip?: boolean;
  /** The child stops a run whose RSS passes this (protects the machine). @default 3072 */
  rssCapMb?: number;
  /** @default console.error */
  log?: (line: string) => void;
}

export type Runtime = 'compiled' | 'tsx';

export interface MemoryRow {
  runtime: Runtime;
  report: MemoryChildReport;
  limitBytes: number;
  heapRatio: number;
}

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

export const COMPILED = here('../node_modules/.cache/imagebatch-bench/bench/');

/**
 * tsc's output of the children (bench/tsconfig.children.json) and everything they import (src/ included), for the
 * 'compiled' runtime, with package.json beside it as the installed package has it (src/internal/version.ts reads it).
 */
export async function compileChildren(): Promise<void> {
  const tsc = here('../node_modules/typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', here('./tsconfig.children.json')]);
  await copyFile(here('../package.json'), here('../node_modules/.cache/imagebatch-bench/package.json'));
}

/**
 * Runs a child script with --expose-gc and returns the JSON of its last stdout line. `checkout`: another copy of
 * the repository whose bench/ script runs instead, through tsx (bench/memory-ab.ts). `nodeArgs`: more node
 * options (e.g. --cpu-prof).
 */
export function runChild<T>(script: string, args: string[], runtime: Runtime = 'tsx', checkout?: string, nodeArgs: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const path = checkout ? join(checkout, 'bench', script) : runtime === 'compiled' ? join(COMPILED, script.replace(/\.ts$/, '.js')) : here(`./${script}`);
    const entry = runtime === 'compiled' && !checkout ? ['--expose-gc', ...nodeArgs, path] : ['--expose-gc', ...nodeArgs, '--import', 'tsx', path];
    const child = spawn(process.execPath, [...entry, ...args], { stdio: ['ignore', 'pipe', 'inherit'], ...(checkout ? { cwd: checkout } : {}) });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${path} exited with ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

/** The limit of the issue: 150 MB + 12 MB per request in flight. */
export const rssLimit = (concurrency: number): number => (150 + 12 * concurrency) * 1024 * 1024;

export async function runMemoryBench(o: MemoryBenchOptions = {}): Promise<{ runs: MemoryRow[]; input?: InputChildReport }> {
  const jobs = o.jobs ?? 10_000;
  const checkpoints = o.checkpoints ?? [100, 1000, jobs];
  const ratioFrom = o.ratioFrom ?? 1000;
  const log = o.log ?? ((l: string) => console.error(l));
  const fsStat = await statfs(tmpdir());
  log(`  free space in ${tmpdir()}: ${fmt((fsStat.bavail * fsStat.bsize) / 1024 ** 3, 1)} GB (images are deleted as they are saved)`);
  const runs: MemoryRow[] = [];
  const concurrencies = o.concurrencies ?? [4, 16];
  const runtimes = o.runtimes ?? ['compiled', 'tsx'];
  if (concurrencies.length > 0 && runtimes.includes('compiled')) await compileChildren();
  const emu = concurrencies.length > 0 ? await startEmulator({ imageBytes: o.imageBytes ?? 3_000_000, seed: 1, gzip: o.gzip ?? false }) : undefined;
  try {
    // Runtimes alternate inside each concurrency, so the pair being compared sees the same machine load.
    for (const c of concurrencies) {
      for (const runtime of runtimes) {
        const dir = await mkdtemp(join(tmpdir(), 'imagebatch-bench-mem-'));
        try {
          const report = await runChild<MemoryChildReport>(
            'memory-child.ts',
            ['--url', emu!.url, '--out', join(dir, 'out'), '--jobs', String(jobs), '--concurrency', String(c), '--checkpoints', checkpoints.join(','), '--rss-cap-mb', String(o.rssCapMb ?? 3072)],
            runtime,
          );
          const at = (n: number) => report.checkpoints.find((x) => x.jobs === n)?.heapUsed ?? Number.NaN;
          runs.push({ runtime, report, limitBytes: rssLimit(c), heapRatio: at(jobs) / at(ratioFrom) });
          log(`  C=${c} ${runtime}: ${report.succeeded}/${jobs} ok${report.capped ? ' (stopped at the RSS cap)' : ''} in ${fmt(report.wallMs / 1000, 1)} s, peak RSS ${fmt(mb(report.peakRss), 0)} MB (limit ${fmt(mb(rssLimit(c)), 0)}), heap ${report.checkpoints.map((x) => `${x.jobs}: ${fmt(mb(x.heapUsed), 1)} MB`).join(', ')}`);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await emu?.close();
  }
  const lines = o.inputLines ?? 100_000;
  if (lines === 0) return { runs };
  const input = await inputBench(lines);
  log(`  input: ${input.jobs} jobs from ${lines} lines in ${fmt(input.wallMs / 1000, 1)} s, peak RSS ${fmt(mb(input.peakRss), 0)} MB`);
  return { runs, input };
}

async function inputBench(lines: number): Promise<InputChildReport> {
  const dir = await mkdtemp(join(tmpdir(), 'imagebatch-bench-input-'));
  try {
    const file = join(dir, 'prompts.txt');
    const ws = createWriteStream(file);
    for (let i = 0; i < lines; i++) {
      const line = `a watercolor painting of lighthouse number ${i} on a rocky coast at dusk, soft light, detailed\n`;
      if (!ws.write(line)) await new Promise<void>((r) => ws.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => ws.end((e?: Error | null) => (e ? reject(e) : resolve())));
    return await runChild<InputChildReport>('input-child.ts', [file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function memoryTable(runs: readonly MemoryRow[]): string {
  const atCheckpoints = (r: MemoryChildReport, f: (c: MemoryChildReport['checkpoints'][number]) => number) =>
    [...r.checkpoints.map((c) => `${c.jobs}: ${fmt(mb(f(c)), 1)}`), ...(r.end ? [`end: ${fmt(mb(f(r.end)), 1)}`] : [])].join(' → ') || '—';
  return markdownTable(
    ['C', 'runs as', 'jobs saved', 'wall (s)', 'RSS before run (MB)', 'peak RSS (MB)', 'limit 150 + 12·C (MB)', 'peak heapUsed (MB)', 'peak external (MB)', 'heapUsed after GC (MB)', 'external after GC (MB)', 'heap ratio'],
    runs.map(({ runtime, report: r, limitBytes, heapRatio }) => [
      String(r.concurrency),
      runtime === 'compiled' ? 'compiled (node)' : 'source (tsx)',
      `${r.done} / ${r.jobs}${r.capped ? ' (stopped: RSS cap)' : ''}${r.gcEvery ? ` (GC every ${r.gcEvery})` : ''}`,
      fmt(r.wallMs / 1000, 1),
      fmt(mb(r.baselineRss), 0),
      `${fmt(mb(r.peakRss), 0)} ${r.peakRss <= limitBytes ? '✅' : '❌'}`,
      fmt(mb(limitBytes), 0),
      fmt(mb(r.peakHeapUsed), 0),
      fmt(mb(r.peakExternal), 0),
      atCheckpoints(r, (c) => c.heapUsed),
      atCheckpoints(r, (c) => c.external),
      Number.isNaN(heapRatio) ? '— (a checkpoint was not reached)' : `${fmt(heapRatio, 3)} ${Math.abs(heapRatio - 1) <= 0.1 ? '✅' : '❌'}`,
    ]),
  );
}

export function inputTable(r: InputChildReport, lines: number): string {
  return markdownTable(
    ['input lines', 'jobs', 'issues', 'wall (s)', 'RSS before (MB)', 'peak RSS (MB)', 'peak heapUsed (MB)'],
    [[String(lines), String(r.jobs), String(r.issues), fmt(r.wallMs / 1000, 1), fmt(mb(r.baselineRss), 0), fmt(mb(r.peakRss), 0), fmt(mb(r.peakHeapUsed), 0)]],
  );
}
