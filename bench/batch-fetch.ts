// Batch fetch benchmark: time and peak memory to download a finished batch's results file from the emulator and
// write every answer into an output folder (images + manifest + summary), i.e. collectBatch() alone. The emulator
// runs in a child process, so its CPU is not ours, and renders the results file once (untimed) into a spool file it
// then serves, so neither half measures its PNG encoder. In the same run, on the same results file, a REFERENCE writer
// does only what any fetch must: download, parse, decode, write and fsync each image, 16 at a time (no manifest,
// no names, no folder fsync); the project's fetch is reported as a share of its throughput (median over rounds).
// Run: node --import tsx bench/batch-fetch.ts [--n 10000] [--rounds 1] [--image-bytes 0] [--write-concurrency 16] [--parent-dir DIR]
// (npm run bench runs it compiled: tsc -p bench/tsconfig.children.json, then node on its output; see bench/run.ts)
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { batchStatus, collectBatch, submitBatch } from '../src/batch/index.ts';
import { downloadFile } from '../src/gemini/files.ts';
import { GeminiClient } from '../src/gemini/client.ts';
import { readInlineDataLines } from '../src/gemini/body-lines.ts';
import { startRemoteEmulator } from './lib/remote-emulator.ts';
import { sampleMemory } from './lib/sampler.ts';

const MB = 1024 * 1024;
const KEY = 'bench-key';

export interface BatchFetchOptions {
  /** Results in the batch. @default 10000 */
  n?: number;
  /** Pad each image to about this many bytes (0: the emulator's small default images). @default 0 */
  imageBytes?: number;
  /** Images written at once while reading results. @default the project's default */
  writeConcurrency?: number;
  /** Rounds on the same results file, reference first in odd rounds and project first in even ones; medians are reported. @default 1 */
  rounds?: number;
  /**
   * Make the run's folders inside this folder and leave them there for the caller to delete (bench/run.ts deletes its
   * batch runs together at the end: see probeCreates for why). @default a temp folder, deleted at the end
   */
  parentDir?: string;
  /** Progress lines (stderr in the CLI). @default none */
  log?: (line: string) => void;
}

export interface BatchFetchRow {
  n: number;
  imageBytes: number;
  writeConcurrency: number;
  rounds: number;
  resultsMB: number;
  seconds: number;
  resultsPerSecond: number;
  peakHeapMB: number;
  heapGrowthMB: number;
  peakRssMB: number;
  rssGrowthMB: number;
  /** The reference writer on the same file, same run. */
  referenceSeconds: number;
  referencePerSecond: number;
  /** Median over rounds of project results/s ÷ reference results/s (each round side by side). */
  ratio: number;
  /** The lowest and highest round's ratio. */
  ratioMin: number;
  ratioMax: number;
  /** Process CPU (user + system) per result, medians over rounds. */
  cpuMsPerResult: number;
  referenceCpuMsPerResult: number;
  /** Kernel CPU per file created in each half's own folder just before it runs (µs, medians; probeCreates). */
  createProbeUs: { reference: number; project: number };
}

/** Download + parse + decode + write + fsync per image, `concurrency` at a time: the floor any fetch has to pay. */
async function referenceWrite(client: GeminiClient, files: string[], dir: string, concurrency: number): Promise<number> {
  await mkdir(dir, { recursive: true });
  const inflight = new Set<Promise<void>>();
  let written = 0;
  const write = async (name: string, data: Uint8Array) => {
    const fh = await open(join(dir, name), 'w');
    try {
      await fh.write(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    written++;
  };
  // One results file after the other, as collectBatch() takes a folder's batches.
  for (const [f, file] of files.entries()) for await (const line of readInlineDataLines(await downloadFile(client, file))) {
    if (!line.ok) continue;
    const parts = (line.value as { response?: { candidates?: { content?: { parts?: { thought?: boolean; inlineData?: { data?: unknown } }[] } }[] } }).response?.candidates?.[0]?.content?.parts ?? [];
    for (const part of parts) {
      if (part.thought) continue; // a draft, not the answer
      const data = part.inlineData?.data;
      if (!(data instanceof Uint8Array)) continue;
      while (inflight.size >= concurrency) await Promise.race(inflight);
      const p: Promise<void> = write(`${f}-${line.line}.png`, data).finally(() => inflight.delete(p));
      inflight.add(p);
    }
  }
  await Promise.all(inflight);
  return written;
}

/** Files made by each probe: enough to average, few enough to cost well under a second in a bad neighbourhood. */
const PROBE_FILES = 300;
/** A fresh part of this machine's file system costs 19-35 µs of kernel CPU per file created (BENCHMARKS.md). */
const PROBE_WARN_US = 150;

/**
 * Kernel CPU (µs) per empty file created in `dir`, the folder a half is about to write. Why: ext4
 * without a journal, as this machine's root file system runs, will not reuse an inode deleted in the last 60 s (300 s
 * while its inode-table block is unwritten), and checks each such inode again on every later allocation that passes
 * it (fs/ext4/ialloc.c, recently_deleted). After a test run or an earlier bench deleted many files, creating one can
 * cost 250-850 µs instead of 20-35, for minutes, in that part of the disk only: a half that lands there measures the
 * holes, not the code. The probe's files are kept, as every other file of the run is, so the run deletes nothing
 * until it ends.
 */
async function probeCreates(dir: string): Promise<number> {
  const cpu = process.cpuUsage();
  // In the half's own folder (a new folder may be put elsewhere on the disk), under names no half writes.
  for (let i = 0; i < PROBE_FILES; i++) await (await open(join(dir, `.create-probe-${i}`), 'wx')).close();
  return process.cpuUsage(cpu).system / PROBE_FILES;
}

/** Reads a whole download and drops it (warms the emulator's spooled copy; not timed). */
async function drain(client: GeminiClient, file: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of await downloadFile(client, file)) bytes += chunk.byteLength;
  return bytes;
}

/**
 * Writes back what earlier steps left dirty (the render, the other half's files) before a timed half starts, so
 * neither half pays for the other's write-back. Nothing is deleted before every round is done either: a half never
 * runs while the file system frees the other's files (this machine mounts it with `discard`).
 */
function settleDisk(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function benchBatchFetch(options: BatchFetchOptions = {}): Promise<BatchFetchRow> {
  const n = options.n ?? 10_000;
  const imageBytes = options.imageBytes ?? 0;
  const writeConcurrency = options.writeConcurrency;
  const rounds = Math.max(1, options.rounds ?? 1);
  const log = options.log ?? (() => {});
  const root = await mkdtemp(join(options.parentDir ?? tmpdir(), 'imagebatch-bench-batch-'));
  const spoolDir = join(root, 'emulator-spool');
  await mkdir(spoolDir);
  // The results file is rendered once into spoolDir and served from there: a download costs the emulator a file
  // read, not a PNG render per line, so neither half below measures the emulator's encoder.
  const emu = await startRemoteEmulator({ timeScale: 0.001, imageBytes, batch: { spoolDir } });
  const pristine = join(root, 'submitted');
  try {
    const client = { apiKey: KEY, baseUrl: emu.url, env: {} };
    const prompts = Array.from({ length: n }, (_, i) => `a benchmark lighthouse at dusk, number ${i}`);
    await submitBatch(prompts, { ...client, out: pristine });
    // Wait without collecting, so only the fetch is measured.
    // Above 50,000 requests (maxRequestsPerBatch) the prompts go out as several batches, each with its results file.
    for (;;) {
      const all = await batchStatus(pristine, client);
      if (all.length > 0 && all.every((s) => s.state === 'BATCH_STATE_SUCCEEDED')) break;
      const bad = all.find((s) => s.state && /FAILED|CANCELLED|EXPIRED/.test(s.state));
      if (bad) throw new Error(`batch ended ${bad.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const state = JSON.parse(await readFile(join(pristine, 'batch-state.json'), 'utf8')) as { batches: { name?: string }[] };
    const files: string[] = [];
    for (const { name } of state.batches) {
      const op = (await (await fetch(`${emu.url}/v1beta/${name}`, { headers: { 'x-goog-api-key': KEY } })).json()) as { response?: { responsesFile?: string } };
      const file = op.response?.responsesFile;
      if (!file) throw new Error(`no responses file for ${name}`);
      files.push(file);
    }
    const gemini = new GeminiClient({ apiKey: KEY, baseUrl: emu.url });
    log(`rendering the results once (${n} lines in ${files.length} file${files.length > 1 ? 's' : ''})`);
    // The first download waits for the whole render before its headers (50,000 lines: minutes).
    let resultsBytes = 0;
    for (const file of files) resultsBytes += await drain(new GeminiClient({ apiKey: KEY, baseUrl: emu.url, timeoutMs: 3_600_000 }), file);
    const refSeconds: number[] = [];
    const projectSeconds: number[] = [];
    const ratios: number[] = [];
    const refCpuPer: number[] = [];
    const projectCpuPer: number[] = [];
    let peakHeap = 0;
    let peakRss = 0;
    let baseHeap = Infinity;
    let baseRss = Infinity;
    const refProbes: number[] = [];
    const projectProbes: number[] = [];
    const probe = async (dir: string, into: number[]) => {
      const us = await probeCreates(dir);
      into.push(us);
      if (us > PROBE_WARN_US) {
        log(`warning: creating a file here costs ${us.toFixed(0)} µs of kernel CPU (a fresh part of this disk: 20-35); files deleted in the last 5 minutes are in the way (see probeCreates), so this half measures them`);
      }
      return us;
    };
    const reference = async (round: number) => {
      const dir = join(root, `reference-${round}`);
      const probeUs = await probe(dir, refProbes);
      const refMem = sampleMemory(10);
      settleDisk();
      const cpu = process.cpuUsage();
      const started = performance.now();
      const written = await referenceWrite(gemini, files, dir, 16);
      const seconds = (performance.now() - started) / 1000;
      const cpuUsed = cpuMs(process.cpuUsage(cpu));
      refMem.stop();
      if (written !== n) throw new Error(`reference wrote ${written} of ${n}`);
      return { seconds, cpuMs: cpuUsed, probeUs };
    };
    const project = async (round: number) => {
      const out = join(root, `out-${round}`);
      const probeUs = await probe(out, projectProbes);
      settleDisk();
      globalThis.gc?.();
      const base = process.memoryUsage();
      baseHeap = Math.min(baseHeap, base.heapUsed);
      baseRss = Math.min(baseRss, base.rss);
      const mem = sampleMemory(10);
      const cpu = process.cpuUsage();
      const started = performance.now();
      let saved: number;
      try {
        saved = (await collectBatch(out, { ...client, gallery: false, ...(writeConcurrency ? { writeConcurrency } : {}) })).saved;
      } finally {
        mem.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      const cpuUsed = cpuMs(process.cpuUsage(cpu));
      if (saved !== n) throw new Error(`saved ${saved} of ${n}`);
      peakHeap = Math.max(peakHeap, mem.peaks.heapUsed);
      peakRss = Math.max(peakRss, mem.peaks.rss);
      return { seconds, cpuMs: cpuUsed, probeUs };
    };
    for (let round = 0; round < rounds; round++) {
      // Side by side on the same file, the order alternating by round: this machine's disk has weather (creating a
      // file costs 20 µs of kernel CPU in one part of it and 800 in another, for minutes: see probeCreates), so each
      // round's ratio is of neighbours.
      let ref: { seconds: number; cpuMs: number; probeUs: number };
      let own: { seconds: number; cpuMs: number; probeUs: number };
      // Both halves' folders are made the same way, together, before either runs: where ext4 puts a new folder's
      // files depends on when and how the folder was made, and a half must not measure a luckier part of the disk.
      for (const dir of round % 2 === 0 ? [`reference-${round}`, `out-${round}`] : [`out-${round}`, `reference-${round}`]) {
        await cp(pristine, join(root, dir), { recursive: true });
      }
      if (round % 2 === 0) {
        ref = await reference(round);
        own = await project(round);
      } else {
        own = await project(round);
        ref = await reference(round);
      }
      refSeconds.push(ref.seconds);
      projectSeconds.push(own.seconds);
      ratios.push(ref.seconds / own.seconds);
      refCpuPer.push(ref.cpuMs / n);
      projectCpuPer.push(own.cpuMs / n);
      log(
        `round ${round + 1}/${rounds}: reference ${(n / ref.seconds).toFixed(0)} results/s (${(ref.cpuMs / n).toFixed(2)} ms CPU each), ` +
          `project ${(n / own.seconds).toFixed(0)} results/s (${(own.cpuMs / n).toFixed(2)} ms CPU each), ÷ ${(ref.seconds / own.seconds).toFixed(2)}; ` +
          `a file created before each: ${ref.probeUs.toFixed(0)} / ${own.probeUs.toFixed(0)} µs`,
      );
    }
    const referenceSeconds = median(refSeconds);
    const seconds = median(projectSeconds);
    return {
      n,
      imageBytes,
      writeConcurrency: writeConcurrency ?? 0,
      rounds,
      referenceSeconds,
      referencePerSecond: n / referenceSeconds,
      resultsMB: resultsBytes / MB,
      seconds,
      resultsPerSecond: n / seconds,
      ratio: median(ratios),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
      cpuMsPerResult: median(projectCpuPer),
      referenceCpuMsPerResult: median(refCpuPer),
      peakHeapMB: peakHeap / MB,
      heapGrowthMB: (peakHeap - baseHeap) / MB,
      peakRssMB: peakRss / MB,
      rssGrowthMB: (peakRss - baseRss) / MB,
      createProbeUs: { reference: median(refProbes), project: median(projectProbes) },
    };
  } finally {
    await emu.close();
    if (!options.parentDir) await rm(root, { recursive: true, force: true });
  }
}

export const TABLE_HEADER =
  '| results | image bytes | write concurrency | rounds | results file (MB) | time (s) | results/s | reference results/s (16 at a time) | ÷ reference (median, range) | CPU ms per result (reference) | kernel µs per file created (reference / project) | peak heap (MB) | heap growth (MB) | peak RSS (MB) | RSS growth (MB) |\n' +
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';

export function tableRow(r: BatchFetchRow): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  return `| ${r.n} | ${r.imageBytes || 'default'} | ${r.writeConcurrency || 'default'} | ${r.rounds} | ${f(r.resultsMB)} | ${f(r.seconds, 2)} | ${f(r.resultsPerSecond, 0)} | ${f(r.referencePerSecond, 0)} | ${f(r.ratio, 2)} (${f(r.ratioMin, 2)}–${f(r.ratioMax, 2)}) | ${f(r.cpuMsPerResult, 2)} (${f(r.referenceCpuMsPerResult, 2)}) | ${f(r.createProbeUs.reference, 0)} / ${f(r.createProbeUs.project, 0)} | ${f(r.peakHeapMB)} | ${f(r.heapGrowthMB)} | ${f(r.peakRssMB)} | ${f(r.rssGrowthMB)} |`;
}

function flag(argv: string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: expected a number, got ${argv[i + 1]}`);
  return v;
}

/** Prints the markdown header and one row; returns the row. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<BatchFetchRow> {
  const row = await benchBatchFetch({
    n: flag(argv, '--n'),
    imageBytes: flag(argv, '--image-bytes'),
    writeConcurrency: flag(argv, '--write-concurrency'),
    rounds: flag(argv, '--rounds'),
    ...(argv.includes('--parent-dir') ? { parentDir: argv[argv.indexOf('--parent-dir') + 1] } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${TABLE_HEADER}\n${tableRow(row)}\n`);
  return row;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}
