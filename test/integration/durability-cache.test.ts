// The shared answer cache across output folders and processes: the same request is paid for once, and runs
// sharing one cache at the same time never corrupt it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { runToDisk } from '../../src/run-disk.ts';
import type { RunToDiskOptions } from '../../src/options.ts';
import { checkFolder, manifestLines, spawnCli } from '../cli/crash-harness.ts';
import { filesUnder } from '../helpers/emu.ts';

let root: string;
let emu: Emulator;
/** 60 ms answers: the two processes' runs then last long enough to overlap despite tsx start-up jitter. */
let slow: Emulator;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-dcache-'));
  emu = await startEmulator({ seed: 21, latency: { distribution: 'uniform', meanMs: 20, minMs: 5, maxMs: 40 } });
  slow = await startEmulator({ seed: 22, latency: { distribution: 'fixed', meanMs: 60 } });
});
after(async () => {
  await Promise.all([emu.close(), slow.close()]);
  await rm(root, { recursive: true, force: true });
});

const base = (out: string, cacheDir: string, o: RunToDiskOptions = {}): RunToDiskOptions => ({
  out,
  cacheDir,
  apiKey: 'test',
  baseUrl: emu.url,
  concurrency: 4,
  gallery: false,
  env: {},
  ...o,
});
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every file under dir, as absolute paths. */
const walk = async (dir: string): Promise<string[]> => (await filesUnder(dir)).map((f) => join(dir, f));

/** Every blob is named by its own hash, every entry parses and points at blobs of the recorded size, no temps. */
async function assertCacheConsistent(cacheDir: string): Promise<number> {
  const files = await walk(cacheDir);
  assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'temp files left in the cache');
  const blobs = new Map<string, number>();
  for (const f of files.filter((x) => x.startsWith(join(cacheDir, 'blobs')))) {
    const bytes = await readFile(f);
    assert.equal(sha(bytes), f.split('/').at(-1), `blob ${f} does not match its name`);
    blobs.set(sha(bytes), bytes.byteLength);
  }
  const entries = files.filter((x) => x.startsWith(join(cacheDir, 'entries')));
  for (const f of entries) {
    const e = JSON.parse(await readFile(f, 'utf8')) as { v: number; images: { sha256: string; bytes: number }[] };
    assert.equal(e.v, 1);
    for (const img of e.images) assert.equal(blobs.get(img.sha256), img.bytes, `${f} points at a missing or wrong blob`);
  }
  return entries.length;
}

describe('shared cache', { timeout: 60_000 }, () => {
  test('two folders with overlapping prompts pay once per prompt; the second gets byte-identical cached images', async () => {
    const cacheDir = join(root, 'cache-seq');
    const prompts = Array.from({ length: 9 }, (_, i) => `cache seq ${i}: a blue heron at dawn`);
    const a = join(root, 'seq-a');
    const b = join(root, 'seq-b');
    const sa = await runToDisk(prompts.slice(0, 6), base(a, cacheDir));
    assert.equal(sa.cached, 0);
    const sb = await runToDisk(prompts.slice(3), base(b, cacheDir));
    assert.deepEqual(
      prompts.map((p) => emu.requestsForPrompt(p)),
      prompts.map(() => 1),
      'an overlapping prompt was paid twice',
    );
    assert.equal(sb.cached, 3);
    assert.equal(sb.succeeded, 6);
    const linesB = await manifestLines(b);
    const linesA = await manifestLines(a);
    for (const e of linesB) {
      const fromCache = prompts.indexOf(e.prompt) < 6;
      assert.equal(e.from, fromCache ? 'cache' : 'api', e.prompt);
      if (fromCache) {
        assert.equal(e.costUsd, 0, 'a cache hit costs nothing');
        assert.equal(e.files[0]!.sha256, linesA.find((x) => x.prompt === e.prompt)!.files[0]!.sha256);
      }
    }
    assert.deepEqual((await checkFolder(b)).problems, []);
    assert.equal(await assertCacheConsistent(cacheDir), 9);

    // A cache hit is recorded like any result: resuming folder b skips everything, requests nothing.
    const again = await runToDisk(prompts.slice(3), base(b, cacheDir));
    assert.equal(again.skipped, 6);
    assert.deepEqual(
      prompts.map((p) => emu.requestsForPrompt(p)),
      prompts.map(() => 1),
    );
  });

  test('answers are kept per endpoint: another server is asked, never served the first one\'s pictures (bug: one namespace)', async () => {
    const cacheDir = join(root, 'cache-endpoints');
    const prompts = ['endpoint 0: a red kite over a field', 'endpoint 1: a lighthouse in fog'];
    const a = join(root, 'ep-a');
    const sa = await runToDisk(prompts, base(a, cacheDir));
    assert.equal(sa.succeeded, 2);
    // The same prompts against another server (as a real run after an emulator run would be): it must be asked.
    const b = join(root, 'ep-b');
    const sb = await runToDisk(prompts, base(b, cacheDir, { baseUrl: slow.url }));
    assert.equal(sb.cached, 0, 'the first endpoint\'s answers were served for another endpoint');
    assert.deepEqual(
      prompts.map((p) => slow.requestsForPrompt(p)),
      [1, 1],
    );
    for (const e of await manifestLines(b)) assert.equal(e.from, 'api', e.prompt);
    // Each endpoint still has its cache: a third folder on the second server pays nothing and gets its pictures.
    const c = join(root, 'ep-c');
    const sc = await runToDisk(prompts, base(c, cacheDir, { baseUrl: slow.url }));
    assert.equal(sc.cached, 2);
    assert.deepEqual(
      prompts.map((p) => [emu.requestsForPrompt(p), slow.requestsForPrompt(p)]),
      [
        [1, 1],
        [1, 1],
      ],
    );
    const shaB = new Map((await manifestLines(b)).map((e) => [e.prompt, e.files[0]!.sha256]));
    for (const e of await manifestLines(c)) {
      assert.equal(e.from, 'cache', e.prompt);
      assert.equal(e.files[0]!.sha256, shaB.get(e.prompt), e.prompt);
    }
    assert.equal(await assertCacheConsistent(cacheDir), 4);
  });

  test('--no-cache (cacheDir false) neither reads nor writes the cache', async () => {
    const cacheDir = join(root, 'cache-off');
    const prompts = ['cache off 0: a lantern', 'cache off 1: a kettle'];
    await runToDisk(prompts, base(join(root, 'off-a'), cacheDir));
    await runToDisk(prompts, base(join(root, 'off-b'), cacheDir, { cacheDir: false }));
    assert.deepEqual(
      prompts.map((p) => emu.requestsForPrompt(p)),
      [2, 2],
    );
    assert.equal(await assertCacheConsistent(cacheDir), 2);
  });

  test('two CLI processes sharing one cache at once both complete and leave it consistent; a third run pays nothing', async (t) => {
    const cacheDir = join(root, 'cache-conc');
    const prompts = Array.from({ length: 40 }, (_, i) => `cache conc ${i}: a copper teapot, studio light`);
    // The same list in the same order: once the later process catches up (its first jobs are cache hits), both
    // request and put the same keys and blobs at the same moments, the worst case for the cache.
    const file = join(root, 'conc.txt');
    await writeFile(file, `${prompts.join('\n')}\n`);
    const outA = join(root, 'conc-a');
    const outB = join(root, 'conc-b');
    const cli = (out: string) =>
      spawnCli(['generate', file, '--out', out, '--base-url', slow.url, '--cache-dir', cacheDir, '--concurrency', '4', '--no-gallery']);
    const [ra, rb] = [cli(outA), cli(outB)];
    const [ea, eb] = await Promise.all([ra.exited, rb.exited]);
    assert.equal(ea.code, 0, ra.stderr);
    assert.equal(eb.code, 0, rb.stderr);
    for (const out of [outA, outB]) {
      const lines = await manifestLines(out);
      assert.equal(lines.length, prompts.length);
      assert.ok(lines.every((e) => e.status === 'succeeded'));
      const check = await checkFolder(out);
      assert.deepEqual(check.problems, []);
      assert.deepEqual(check.temps, []);
    }
    // Racing processes may both pay for a prompt, never more than once each.
    const paid = prompts.map((p) => slow.requestsForPrompt(p));
    for (const [i, k] of paid.entries()) assert.ok(k >= 1 && k <= 2, `prompt ${i} paid ${k} times`);
    t.diagnostic(`prompts paid by both processes: ${paid.filter((k) => k === 2).length} of ${prompts.length}`);
    assert.equal(await assertCacheConsistent(cacheDir), prompts.length);

    const third = await runToDisk(prompts, base(join(root, 'conc-c'), cacheDir, { baseUrl: slow.url }));
    assert.equal(third.cached, prompts.length);
    assert.deepEqual(
      prompts.map((p) => slow.requestsForPrompt(p)),
      paid,
    );
    assert.deepEqual((await checkFolder(join(root, 'conc-c'))).problems, []);
  });
});
