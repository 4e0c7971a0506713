// Child process of the memory benchmark: validateInput() then readJobs() over a large prompt file, with the
// peak RSS of doing so. Prints one JSON line.
import { readJobs, validateInput } from '../src/input/index.ts';
import { sampleMemory, settledHeap } from './lib/sampler.ts';

export interface InputChildReport {
  lines: number;
  jobs: number;
  issues: number;
  wallMs: number;
  baselineRss: number;
  peakRss: number;
  peakHeapUsed: number;
}

async function main(): Promise<void> {
  const file = process.argv[2]!;
  settledHeap();
  const baselineRss = process.memoryUsage().rss;
  const mem = sampleMemory(100);
  const started = Date.now();
  const { jobs: counted, issues } = await validateInput(file);
  let jobs = 0;
  for await (const job of readJobs(file)) if (job.prompt) jobs++;
  const peaks = mem.stop();
  const report: InputChildReport = { lines: counted, jobs, issues: issues.length, wallMs: Date.now() - started, baselineRss, peakRss: peaks.rss, peakHeapUsed: peaks.heapUsed };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
