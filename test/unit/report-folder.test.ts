// `imagebatch report` tells what it saw: summary.json rebuilt from the manifest it reads, damaged lines named by
// number, and a sentence with exit 2 for a folder it cannot report on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';
import type { RunSummary } from '../../src/types.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-report-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = async () => {
  const d = join(root, `r${n++}`);
  await mkdir(d);
  return d;
};

/** Runs the CLI in this process, capturing what it writes. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const saved = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((c: string | Uint8Array) => ((out.stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((out.stderr += String(c)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, ...out };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
}

const line = (key: string, status: 'succeeded' | 'failed', at: string): ManifestEntry => ({
  v: 1,
  key,
  index: 0,
  prompt: `prompt ${key}`,
  status,
  files: status === 'succeeded' ? [{ path: `${key}.png`, bytes: 10, sha256: 'a'.repeat(64), mimeType: 'image/png' }] : [],
  ...(status === 'failed' ? { reason: 'server' as const, message: 'x' } : {}),
  attempts: 1,
  model: 'gemini-2.5-flash-image',
  latencyMs: 1000,
  costUsd: 0.039,
  finishedAt: at,
});

test('report rebuilds summary.json from the manifest (stale numbers replaced) and names the damaged lines', async () => {
  const dir = await fresh();
  const lines = [
    JSON.stringify(line('a', 'succeeded', '2026-12-01T10:00:01Z')),
    '{"v":1,"key":"half a line',
    JSON.stringify(line('b', 'failed', '2026-12-01T10:00:02Z')),
    'not json at all',
    JSON.stringify(line('c', 'succeeded', '2026-12-01T10:00:03Z')),
  ];
  await writeFile(join(dir, 'manifest.jsonl'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'summary.json'), JSON.stringify({ total: 60, succeeded: 57, failed: 3, skipped: 0, cached: 0, byReason: {}, attempts: 99, wallMs: 1, imagesPerMinute: 0, averageImageBytes: 0, costUsd: 9 }));
  const r = await cli(['report', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /2 damaged line\(s\) skipped \(lines 2, 4\)/);
  const s = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  assert.deepEqual([s.total, s.succeeded, s.failed, s.attempts], [3, 2, 1, 3]);
  assert.deepEqual(s.folder?.damagedLines, [2, 4]);
  assert.equal(s.run, undefined, 'no run happened: no "this run" numbers');
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  assert.match(html, /damaged manifest line\(s\) skipped \(lines 2, 4\)/);
  assert.doesNotMatch(html, /<dd>57<\/dd>/);
});

test('report on a missing folder, a file, a directory named manifest.jsonl, a folder without a manifest: a sentence, exit 2', async () => {
  const dir = await fresh();
  const file = join(dir, 'a-file');
  await writeFile(file, 'x');
  const dirManifest = await fresh();
  await mkdir(join(dirManifest, 'manifest.jsonl'));
  const empty = await fresh();
  const cases: [string, RegExp][] = [
    [join(dir, 'missing'), /no output folder at .*missing/],
    [join(file, 'below'), /no output folder at .*a-file.below/],
    [file, /a-file is a file, not an output folder/],
    [dirManifest, /manifest\.jsonl is a directory, not a manifest file/],
    [empty, /has no manifest\.jsonl: nothing to report/],
  ];
  for (const [target, message] of cases) {
    const r = await cli(['report', target]);
    assert.equal(r.code, 2, `${target}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /ENOENT|ENOTDIR|EISDIR|\n\s+at /);
  }
  await assert.rejects(readFile(join(empty, 'index.html')), /ENOENT/, 'nothing written for a folder without a manifest');
});
