// Child process of the memory benchmark: runToDisk() of `jobs` prompts against an emulator URL, each image
// deleted right after its manifest line (so 10,000 × 3 MB never sits on disk), RSS and heap sampled every
// 100 ms, and the heap measured after full GCs at the checkpoints. Prints one JSON line. Needs --expose-gc.
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runToDisk } from '../src/run-disk.ts';
import { sampleMemory, settledHeap } from './lib/sampler.ts';

export interface MemoryChildReport {
  jobs: number;
  concurrency: number;
  /** Results saved (less than jobs when the RSS cap stopped the run). */
  done: number;
  succeeded: number;
  /** The run passed the RSS cap and was stopped. */
  capped: boolean;
  gcEvery: number;
  wallMs: number;
  /** RSS after imports, before the run. */
  baselineRss: number;
  peakRss: number;
  peakHeapUsed: number;
  peakHeapTotal: number;
  peakExternal: number;
  checkpoints: { jobs: number; heapUsed: number; external: number; rss: number }[];
  /** The same after the run returned (everything it held should be released). */
  end?: { jobs: number; heapUsed: number; external: number; rss: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      out: { type: 'string' },
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      checkpoints: { type: 'string' },
      'rss-cap-mb': { type: 'string' },
      'gc-every': { type: 'string' },
    },
  });
  const jobs = Number(values.jobs);
  const concurrency = Number(values.concurrency);
  const checkpoints = new Set((values.checkpoints ?? '').split(',').filter(Boolean).map(Number));
  const out = values.out!;
  // A guard for the machine, not a measurement: a run whose RSS passes the cap stops there and says so.
  const rssCap = Number(values['rss-cap-mb'] ?? 4096) * 1024 * 1024;
  // Diagnostic: a full GC every N results shows what is live as opposed to garbage not yet collected.
  const gcEvery = Number(values['gc-every'] ?? 0);
  const stop = new AbortController();
  settledHeap();
  const baselineRss = process.memoryUsage().rss;
  const mem = sampleMemory(100, (rss) => {
    if (rss > rssCap && !report.capped) {
      report.capped = true;
      stop.abort(new Error(`RSS passed the ${values['rss-cap-mb'] ?? 4096} MB cap`));
    }
  });
  const report: MemoryChildReport = { jobs, concurrency, done: 0, succeeded: 0, capped: false, gcEvery, wallMs: 0, baselineRss, peakRss: 0, peakHeapUsed: 0, peakHeapTotal: 0, peakExternal: 0, checkpoints: [] };
  let done = 0;
  // Lazy: the input is a generator, never an array of 10,000 prompts.
  function* prompts(): Generator<string> {
    for (let i = 0; i < jobs; i++) yield `memory bench prompt ${i}`;
  }
  const started = Date.now();
  const summary = await runToDisk(prompts(), {
    apiKey: 'bench-key',
    baseUrl: values.url,
    out,
    fresh: true,
    cacheDir: false,
    gallery: false,
    concurrency,
    adaptive: false,
    signal: stop.signal,
    onResult: (r) => {
      if (r.status === 'succeeded') for (const img of r.images) if (img.file) unlinkSync(join(out, img.file));
      done++;
      if (gcEvery > 0 && done % gcEvery === 0) settledHeap();
      if (checkpoints.has(done)) {
        mem.sample();
        const heapUsed = settledHeap();
        const m = process.memoryUsage();
        report.checkpoints.push({ jobs: done, heapUsed, external: m.external, rss: m.rss });
      }
    },
  });
  report.wallMs = Date.now() - started;
  report.done = done;
  {
    const heapUsed = settledHeap();
    const m = process.memoryUsage();
    report.end = { jobs: done, heapUsed, external: m.external, rss: m.rss };
  }
  report.succeeded = summary.succeeded;
  const peaks = mem.stop();
  report.peakRss = peaks.rss;
  report.peakHeapUsed = peaks.heapUsed;
  report.peakHeapTotal = peaks.heapTotal;
  report.peakExternal = peaks.external;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
