// Child process of the streaming-at-scale benchmark (bench/scale.ts): runToDisk() of N prompts generated on the fly
// (a generator: never an array of N) against an emulator URL, as a CLI run does it: manifest, atomic fsynced image
// writes, the live progress display (tty mode, into a sink), summary.json and the gallery at the end; cache off.
// Records the time and the process's CPU at every 10 % of the results, and peak RSS / heap on a 100-ms sampler.
// Prints one JSON line.
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ProgressDisplay } from '../src/cli/progress.ts';
import { runToDisk } from '../src/run-disk.ts';
import { sampleMemory } from './lib/sampler.ts';
import type { MemoryPeaks } from './lib/sampler.ts';

export interface ScaleSlice {
  /** Results saved when this slice ended (the slice is the results since the previous one). */
  results: number;
  /** Real ms since the run started. */
  atMs: number;
  /** Process CPU (user + system) since the run started, ms. */
  cpuMs: number;
}

export interface ScaleChildReport {
  n: number;
  concurrency: number;
  succeeded: number;
  failed: number;
  /** From the call to the last result saved: the streaming part. */
  streamMs: number;
  /** CPU (user + system) over the streaming part, ms. */
  streamCpuMs: number;
  /** From the last result to runToDisk's return: summary.json, closing the manifest, the gallery. */
  tailMs: number;
  tailCpuMs: number;
  /** Ten slices of the results, in order. */
  slices: ScaleSlice[];
  baselineRss: number;
  /** Peaks up to the last result (the streaming part); peakRss / peakHeapUsed include the end (summary, gallery). */
  streamPeakRss: number;
  streamPeakHeapUsed: number;
  /** heapUsed after a full GC when the last result was saved (what the run still holds, garbage excluded); NaN without --expose-gc. */
  settledHeapUsed: number;
  peakRss: number;
  peakHeapUsed: number;
  peakExternal: number;
}

/** Throws away what the progress display writes (its work is what a CLI run does; its output is not needed). */
class Sink extends Writable {
  isTTY = true;
  columns = 120;
  override _write(_chunk: unknown, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    done();
  }
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: 'string' }, out: { type: 'string' }, n: { type: 'string' }, concurrency: { type: 'string' } } });
  const n = Number(values.n);
  const concurrency = Number(values.concurrency);
  if (!values.url || !values.out || !(n > 0) || !(concurrency > 0)) throw new Error('usage: scale-child.ts --url URL --out DIR --n N --concurrency C');
  const display = new ProgressDisplay({ stream: new Sink(), mode: 'tty', total: n, outDir: values.out });
  // Varied prompts of a realistic length: each gets its own slug, key and file name.
  function* prompts(): Generator<string> {
    for (let i = 0; i < n; i++) yield `a watercolor painting of lighthouse number ${i} on a rocky coast at dusk, soft light, detailed`;
  }
  const baselineRss = process.memoryUsage().rss;
  const mem = sampleMemory(100);
  const sliceEvery = Math.max(1, Math.floor(n / 10));
  const slices: ScaleSlice[] = [];
  let saved = 0;
  let streamPeaks: MemoryPeaks | undefined;
  let settledHeapUsed = Number.NaN;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const summary = await runToDisk(prompts(), {
    apiKey: 'bench-key',
    baseUrl: values.url,
    out: values.out,
    fresh: true,
    cacheDir: false,
    concurrency,
    total: n,
    onEvent: (e) => display.onEvent(e),
    onResult: () => {
      saved++;
      // Ten slices: nine of n/10 results, the last one takes the rest.
      if ((saved % sliceEvery === 0 && slices.length < 9) || saved === n) slices.push({ results: saved, atMs: performance.now() - t0, cpuMs: cpuMs(cpu0) });
      if (saved === n) {
        mem.sample();
        streamPeaks = { ...mem.peaks };
        // After the peak is taken: what is still referenced once the stream is done (the run's per-job sets).
        const gc = (globalThis as { gc?: () => void }).gc;
        if (gc) {
          gc();
          settledHeapUsed = process.memoryUsage().heapUsed;
        }
      }
    },
  });
  const endMs = performance.now() - t0;
  const endCpu = cpuMs(cpu0);
  const peaks = mem.stop();
  const last = slices.at(-1) ?? { atMs: endMs, cpuMs: endCpu };
  const report: ScaleChildReport = {
    n,
    concurrency,
    succeeded: summary.succeeded,
    failed: summary.failed,
    streamMs: last.atMs,
    streamCpuMs: last.cpuMs,
    tailMs: endMs - last.atMs,
    tailCpuMs: endCpu - last.cpuMs,
    slices,
    baselineRss,
    streamPeakRss: streamPeaks?.rss ?? Number.NaN,
    streamPeakHeapUsed: streamPeaks?.heapUsed ?? Number.NaN,
    settledHeapUsed,
    peakRss: peaks.rss,
    peakHeapUsed: peaks.heapUsed,
    peakExternal: peaks.external,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
