// `npm run bench`: every benchmark, printed as markdown (progress goes to stderr).
//   --only <names>  comma-separated subset of: quota, quota-virtual, memory, memory-gzip, input, batch, gallery, vertex, shared, scale
//   --quick         smaller runs for a smoke check: quota runs of 10 real seconds instead of 30, one run each,
//                   2,000 jobs per memory run (500 gzip), a 20,000-line input, 2,000 batch results,
//                   streaming at scale with 1,000 and 10,000 prompts
//   --profile <name>  the quota benchmarks on that profile alone (its exact name, e.g. "60→20→60 RPM")
//   --rate-speed-up <k>  with --only quota-virtual: the known runner's rateSpeedUp (default: the pool's, 4; 1 is
//                 the even pacing of before the sixth session)
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { galleryTable, runGalleryBench } from './gallery.ts';
import { fmt } from './lib/stats.ts';
import { COMPILED, compileChildren, inputTable, memoryTable, runMemoryBench } from './memory.ts';
import { runQuotaBench } from './quota.ts';
import { runVertexBench } from './vertex.ts';
import { quotaTable, virtualTable } from './quota-table.ts';
import { runSharedBench, sharedTable } from './shared.ts';
import { runScaleBench, scaleTable } from './scale.ts';

const NAMES = ['quota', 'quota-virtual', 'memory', 'memory-gzip', 'input', 'batch', 'gallery', 'vertex', 'shared', 'scale'] as const;
type Name = (typeof NAMES)[number];

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, profile: { type: 'string' }, 'rate-speed-up': { type: 'string' } } });
const only = new Set((values.only ?? NAMES.join(',')).split(',').map((s) => s.trim()));
for (const name of only) if (!NAMES.includes(name as Name)) throw new Error(`--only: unknown benchmark "${name}" (known: ${NAMES.join(', ')})`);
const quick = values.quick ?? false;
const log = (line: string) => process.stderr.write(`${line}\n`);
const print = (text = '') => process.stdout.write(`${text}\n`);
const started = Date.now();

print(`## Results (${quick ? 'quick' : 'full'} run, ${new Date().toISOString().slice(0, 16)}Z)`);
print();
print(`Command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``);
print(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${fmt(totalmem() / 1024 ** 3, 0)} GB, Node ${process.version}, load average at start ${loadavg().map((x) => fmt(x, 1)).join(' / ')}`);
print();

if (only.has('shared')) {
  const jobs = quick ? 240 : 480;
  log(`shared: ${jobs} jobs per run over P processes`);
  const rows = await runSharedBench({ jobs, log });
  print(`### Several processes on one project quota (--shared-quota through Redis), ${jobs} jobs per run, one run each`);
  print();
  print(sharedTable(rows));
  print();
}

if (only.has('quota')) {
  // 300 jobs at 30 real seconds a run: what the quota's time scale allows without measuring its own compression.
  const n = 300;
  log(`quota: ${n} jobs per run`);
  const { emulator, virtual } = await runQuotaBench({ n, reps: quick ? 1 : 3, seedReps: 1, targetRealS: quick ? 10 : 30, log, ...(values.profile ? { profileFilter: values.profile } : {}) });
  print(`### Ride the quota: emulator (HTTP, scaled time), N = ${n}, medians`);
  print();
  print(quotaTable(emulator));
  print();
  print(`### Ride the quota: the same profiles in virtual time (scheduler + simulated server, FakeClock), medians over seeds`);
  print();
  print(virtualTable(virtual));
  print();
}

if (only.has('quota-virtual') && !only.has('quota')) {
  // The virtual-time half of the quota bench alone: deterministic, seconds, free of machine load.
  const n = quick ? 300 : 1000;
  log(`quota (virtual time only): ${n} jobs per run`);
  const speedUp = values['rate-speed-up'] === undefined ? undefined : Number(values['rate-speed-up']);
  const { virtual } = await runQuotaBench({ n, reps: 3, seedReps: 3, emulator: false, log, ...(values.profile ? { profileFilter: values.profile } : {}), ...(speedUp === undefined ? {} : { rateSpeedUp: speedUp }) });
  print(`### Ride the quota: virtual time (scheduler + simulated server, FakeClock), medians over 3 seeds${speedUp === undefined ? '' : `, known runner with rateSpeedUp ${speedUp}`}`);
  print();
  print(virtualTable(virtual));
  print();
}

if (only.has('gallery')) {
  const sizes = quick ? [1000, 20_000] : [1000, 100_000];
  log(`gallery: ${sizes.join(', ')} jobs`);
  const rows = await runGalleryBench({ variants: [{ label: 'chunked (this checkout)', module: new URL('../src/report/gallery.ts', import.meta.url).href, sizes }], loads: quick ? 3 : 5, log });
  print(`### Gallery: first cards in Chromium from file:// (bench/gallery.ts)`);
  print();
  print(galleryTable(rows));
  print();
}

if (only.has('memory') || only.has('input')) {
  const jobs = quick ? 2000 : 10_000;
  const inputLines = quick ? 20_000 : 100_000;
  log(`memory: ${jobs} jobs per run`);
  const { runs, input } = await runMemoryBench({
    jobs,
    checkpoints: quick ? [100, 200, jobs] : [100, 1000, jobs],
    ratioFrom: quick ? 200 : 1000,
    concurrencies: only.has('memory') ? [4, 16] : [],
    inputLines: only.has('input') ? inputLines : 0,
    log,
  });
  if (runs.length > 0) {
    print(`### Bounded memory: runToDisk, 3 MB images, zero latency`);
    print();
    print(memoryTable(runs));
    print();
  }
  if (input) {
    print(`### Bounded memory: streamed input (validateInput + readJobs)`);
    print();
    print(inputTable(input, inputLines));
    print();
  }
}

if (only.has('memory-gzip')) {
  // The real API gzips its answers; gzip costs the emulator ~70 ms of CPU per 3 MB answer, so these runs are
  // shorter and only compiled: they check that gunzip buffers do not break the cap, not the 10,000-job ratio.
  const jobs = quick ? 500 : 5000;
  log(`memory with gzip: ${jobs} jobs per run`);
  const { runs } = await runMemoryBench({ jobs, checkpoints: quick ? [100, jobs] : [100, 1000, jobs], ratioFrom: quick ? 100 : 1000, concurrencies: [4, 16], runtimes: ['compiled'], inputLines: 0, gzip: true, log });
  print(`### Bounded memory: the same, emulator answers gzip-encoded (as the real API's), compiled only`);
  print();
  print(memoryTable(runs));
  print();
}

if (only.has('batch')) {
  // bench/batch-fetch.ts runs as a child so its memory figures are its own; one child per size. It runs compiled by
  // tsc under plain node, as the installed package does: tsx's loader wraps every closure the source creates (a few
  // per result in both halves), which is not the code users run.
  await compileChildren();
  const script = join(COMPILED, 'batch-fetch.js');
  const sizes: [number, number][] = quick ? [[2000, 1]] : [[10_000, 4], [100_000, 2]];
  // Every size's files stay until the last size is done: deleting 40,000 files would slow file creation in the next
  // size's folders for minutes on this machine's file system (bench/batch-fetch.ts, probeCreates).
  const parent = await mkdtemp(join(tmpdir(), 'imagebatch-bench-batches-'));
  try {
    for (const [n, rounds] of sizes) {
      log(`batch: ${n} results, ${rounds} rounds`);
      const table = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [script, '--n', String(n), '--rounds', String(rounds), '--parent-dir', parent], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
          err ? reject(new Error(`batch-fetch failed: ${stderr || err.message}`)) : resolve(stdout.trim()),
        ),
      );
      print(`### Batch API: fetch and write ${n} results vs the reference writer, side by side (bench/batch-fetch.ts --n ${n} --rounds ${rounds}, compiled)`);
      print();
      print(table);
      print();
    }
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

if (only.has('scale')) {
  const sizes = quick ? [1000, 10_000] : [1000, 10_000, 100_000];
  const concurrency = 32;
  log(`scale: ${sizes.join(', ')} prompts, concurrency ${concurrency}`);
  const rows = await runScaleBench({ sizes, concurrency, log });
  print(`### Streaming at scale: runToDisk at zero latency, emulator in another process, concurrency ${concurrency} (bench/scale.ts)`);
  print();
  print(scaleTable(rows));
  print();
}

if (only.has('vertex')) {
  const n = quick ? 200 : 400;
  log(`vertex: ${n} prompts per run`);
  print(`### Vertex AI: the bare 429 of dynamic shared quota, N = ${n}, medians (bench/vertex.ts)`);
  print();
  print(await runVertexBench({ n, reps: quick ? 1 : 3, log }));
  print();
}

log(`done in ${fmt((Date.now() - started) / 1000, 0)} s`);
