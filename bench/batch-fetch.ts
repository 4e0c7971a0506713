// Batch fetch benchmark: time and peak memory to download a finished batch's results file from the emulator and
// write every answer into an output folder (images + manifest + summary), i.e. collectBatch() alone.
// Run: node --import tsx bench/batch-fetch.ts [--n 10000] [--image-bytes 0] [--write-concurrency 4]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { batchStatus, collectBatch, submitBatch } from '../src/batch/index.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { sampleMemory } from './lib/sampler.ts';

const MB = 1024 * 1024;
const KEY = 'bench-key';

export interface BatchFetchOptions {
  /** Results in the batch. @default 10000 */
  n?: number;
  /** Pad each image to about this many bytes (0: the emulator's small default images). @default 0 */
  imageBytes?: number;
  /** Images written at once while reading results. @default 4 */
  writeConcurrency?: number;
}

export interface BatchFetchRow {
  n: number;
  imageBytes: number;
  writeConcurrency: number;
  resultsMB: number;
  seconds: number;
  resultsPerSecond: number;
  peakHeapMB: number;
  heapGrowthMB: number;
  peakRssMB: number;
  rssGrowthMB: number;
}

export async function benchBatchFetch(options: BatchFetchOptions = {}): Promise<BatchFetchRow> {
  const n = options.n ?? 10_000;
  const imageBytes = options.imageBytes ?? 0;
  const writeConcurrency = options.writeConcurrency ?? 4;
  const emu = await startEmulator({ timeScale: 0.001, imageBytes });
  const root = await mkdtemp(join(tmpdir(), 'imagebatch-bench-batch-'));
  const out = join(root, 'out');
  try {
    const client = { apiKey: KEY, baseUrl: emu.url, env: {} };
    const prompts = Array.from({ length: n }, (_, i) => `a benchmark lighthouse at dusk, number ${i}`);
    await submitBatch(prompts, { ...client, out });
    // Wait without collecting, so only the fetch is measured.
    for (;;) {
      const [s] = await batchStatus(out, client);
      if (s?.state === 'BATCH_STATE_SUCCEEDED') break;
      if (s?.state && /FAILED|CANCELLED|EXPIRED/.test(s.state)) throw new Error(`batch ended ${s.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    let downloaded = 0;
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes(':download') || !res.body) return res;
      const body = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            downloaded += chunk.byteLength;
            c.enqueue(chunk);
          },
        }),
      );
      return new Response(body, { status: res.status, headers: res.headers });
    };
    globalThis.gc?.();
    const base = process.memoryUsage();
    const mem = sampleMemory(10);
    const started = performance.now();
    let saved: number;
    try {
      saved = (await collectBatch(out, { ...client, fetch: counting, gallery: false, writeConcurrency })).saved;
    } finally {
      mem.stop();
    }
    const peakHeap = mem.peaks.heapUsed;
    const peakRss = mem.peaks.rss;
    const seconds = (performance.now() - started) / 1000;
    if (saved !== n) throw new Error(`saved ${saved} of ${n}`);
    return {
      n,
      imageBytes,
      writeConcurrency,
      resultsMB: downloaded / MB,
      seconds,
      resultsPerSecond: n / seconds,
      peakHeapMB: peakHeap / MB,
      heapGrowthMB: (peakHeap - base.heapUsed) / MB,
      peakRssMB: peakRss / MB,
      rssGrowthMB: (peakRss - base.rss) / MB,
    };
  } finally {
    await emu.close();
    await rm(root, { recursive: true, force: true });
  }
}

export const TABLE_HEADER =
  '| results | image bytes | write concurrency | results file (MB) | time (s) | results/s | peak heap (MB) | heap growth (MB) | peak RSS (MB) | RSS growth (MB) |\n' +
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';

export function tableRow(r: BatchFetchRow): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  return `| ${r.n} | ${r.imageBytes || 'default'} | ${r.writeConcurrency} | ${f(r.resultsMB)} | ${f(r.seconds, 2)} | ${f(r.resultsPerSecond, 0)} | ${f(r.peakHeapMB)} | ${f(r.heapGrowthMB)} | ${f(r.peakRssMB)} | ${f(r.rssGrowthMB)} |`;
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
  const row = await benchBatchFetch({ n: flag(argv, '--n'), imageBytes: flag(argv, '--image-bytes'), writeConcurrency: flag(argv, '--write-concurrency') });
  process.stdout.write(`${TABLE_HEADER}\n${tableRow(row)}\n`);
  return row;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}
