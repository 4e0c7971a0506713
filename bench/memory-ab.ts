// Side by side: the memory benchmark's child run from another checkout (say, the commit before a change) and
// from this one, alternating A, B, A, B so both see the same machine load. Prints one markdown table.
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   node --import tsx bench/memory-ab.ts /tmp/base [--jobs 2000] [--rounds 2] [--concurrency 4,16]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator } from '../src/emulator/index.ts';
import { fmt, markdownTable, mb, median } from './lib/stats.ts';
import { rssLimit, runChild } from './memory.ts';
import type { MemoryChildReport } from './memory-child.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { jobs: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '2' }, concurrency: { type: 'string', default: '4,16' } },
});
const base = positionals[0];
if (!base) throw new Error('usage: bench/memory-ab.ts <other checkout> [--jobs N] [--rounds R] [--concurrency 4,16]');
const here = resolve(fileURLToPath(new URL('..', import.meta.url)));
const trees = [
  { label: `A: ${base}`, dir: resolve(base) },
  { label: `B: ${here}`, dir: here },
];
const jobs = Number(values.jobs);
const rounds = Number(values.rounds);
const concurrencies = values.concurrency.split(',').map(Number);

const emu = await startEmulator({ imageBytes: 3_000_000, seed: 1 });
const results = new Map<string, MemoryChildReport[]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const c of concurrencies) {
      for (const t of trees) {
        const dir = await mkdtemp(join(tmpdir(), 'imagebatch-bench-ab-'));
        try {
          const r = await runChild<MemoryChildReport>('memory-child.ts', ['--url', emu.url, '--out', join(dir, 'out'), '--jobs', String(jobs), '--concurrency', String(c), '--checkpoints', String(jobs)], 'tsx', t.dir);
          const key = `${t.label}|${c}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.error(`  round ${round + 1} C=${c} ${t.label}: peak RSS ${fmt(mb(r.peakRss), 0)} MB, ${fmt(r.wallMs / r.done, 1)} ms/job`);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  }
} finally {
  await emu.close();
}

const rows: string[][] = [];
for (const c of concurrencies) {
  const [a, b] = trees.map((t) => results.get(`${t.label}|${c}`) ?? []);
  for (const [t, runs] of [[trees[0]!, a!], [trees[1]!, b!]] as const) {
    rows.push([
      String(c),
      t.label,
      String(runs.length),
      fmt(mb(median(runs.map((r) => r.peakRss))), 0),
      fmt(mb(rssLimit(c)), 0),
      fmt(mb(median(runs.map((r) => r.peakHeapUsed))), 0),
      fmt(mb(median(runs.map((r) => r.peakExternal))), 0),
      fmt(median(runs.map((r) => r.wallMs / r.done)), 1),
    ]);
  }
  const ratio = (f: (r: MemoryChildReport) => number) => median(b!.map(f)) / median(a!.map(f));
  rows.push([String(c), 'B ÷ A', '', fmt(ratio((r) => r.peakRss), 2), '', fmt(ratio((r) => r.peakHeapUsed), 2), fmt(ratio((r) => r.peakExternal), 2), fmt(ratio((r) => r.wallMs / r.done), 2)]);
}
console.log(`${jobs} jobs per run, ${rounds} rounds, medians`);
console.log(markdownTable(['C', 'checkout', 'runs', 'peak RSS (MB)', 'limit (MB)', 'peak heapUsed (MB)', 'peak external (MB)', 'ms per job'], rows));
