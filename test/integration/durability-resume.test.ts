// Resume from what is on disk, against the emulator: what a re-run skips, what it redoes, and what it pays for.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { runToDisk } from '../../src/run-disk.ts';
import type { RunToDiskOptions } from '../../src/options.ts';
import { readManifest } from '../../src/storage/manifest.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';
import { checkFolder, manifestLines } from '../cli/crash-harness.ts';

const N = 6;
let root: string;
let emu: Emulator;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-resume-'));
  emu = await startEmulator({ seed: 9, latency: { distribution: 'fixed', meanMs: 5 } });
});
after(async () => {
  await emu.close();
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** A fresh folder and N prompts nobody asked for before (the emulator counts requests per prompt text). */
async function scene(count = N) {
  const id = n++;
  const out = join(root, `out${id}`);
  const prompts = Array.from({ length: count }, (_, i) => `resume ${id}.${i}: a red kite over green hills`);
  const opts = (o: RunToDiskOptions = {}): RunToDiskOptions => ({
    out,
    apiKey: 'test',
    baseUrl: emu.url,
    cacheDir: false,
    concurrency: 3,
    gallery: false,
    env: {},
    ...o,
  });
  const requests = () => prompts.map((p) => emu.requestsForPrompt(p));
  const run = (o?: RunToDiskOptions, ps = prompts) => runToDisk(ps, opts(o));
  return { out, prompts, requests, run };
}

/** The last line per key, by job index. */
async function lastByIndex(out: string): Promise<Map<number, ManifestEntry>> {
  const m = new Map<number, ManifestEntry>();
  for (const e of await manifestLines(out)) m.set(e.index, e);
  return m;
}

async function assertComplete(out: string, count: number, extraImages = 0): Promise<void> {
  const last = await lastByIndex(out);
  assert.equal(last.size, count);
  assert.ok([...last.values()].every((e) => e.status === 'succeeded'));
  const { problems, temps, images } = await checkFolder(out, [...last.values()]);
  assert.deepEqual(problems, []);
  assert.deepEqual(temps, []);
  assert.equal(images.length, count + extraImages);
}

/** A copy with one byte inverted: same size, different sha256. */
function flipByte(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt8(c.readUInt8(at) ^ 0xff, at);
  return c;
}

const ones = (k: number) => Array.from({ length: k }, () => 1);

describe('resume (runToDisk against the emulator)', { timeout: 30_000 }, () => {
  test('a finished folder is skipped whole: zero requests, all counted as skipped', async () => {
    const s = await scene();
    const first = await s.run();
    assert.equal(first.succeeded, N);
    assert.deepEqual(s.requests(), ones(N));
    const again = await s.run();
    assert.deepEqual(s.requests(), ones(N), 'a re-run paid again');
    assert.equal(again.skipped, N);
    assert.equal(again.succeeded, N);
    assert.equal(again.total, N);
    assert.equal((await manifestLines(s.out)).length, N, 'skipped jobs write no new line');
  });

  test('a deleted image, a corrupted image (same size, other bytes) and an image without its line each run again, once', async () => {
    const s = await scene();
    await s.run();
    const last = await lastByIndex(s.out);
    const file = (i: number) => join(s.out, last.get(i)!.files[0]!.path);
    const original = await readFile(file(1));
    await unlink(file(0));
    await writeFile(file(1), flipByte(original, original.length >> 1));
    // Job 2's line is lost (as if the crash came between the image and its line): keep every other line.
    const kept = (await readFile(join(s.out, 'manifest.jsonl'), 'utf8')).split('\n').filter((l) => l && JSON.parse(l).index !== 2);
    await writeFile(join(s.out, 'manifest.jsonl'), `${kept.join('\n')}\n`);

    const summary = await s.run();
    assert.deepEqual(s.requests(), [2, 2, 2, 1, 1, 1]);
    assert.equal(summary.skipped, N - 3);
    // No double counting: the re-run jobs count once each; the image found without a line carries its job's key
    // (a crash between image and line) and is simply replaced.
    assert.equal(summary.succeeded, N);
    assert.equal(summary.total, N);
    // The changed image no longer matches its line: it may be the user's edit, so it stays and the answer goes to -2.
    await assertComplete(s.out, N, 1);
    const now = await lastByIndex(s.out);
    assert.equal(now.get(1)!.files[0]!.path, last.get(1)!.files[0]!.path.replace(/\.png$/, '-2.png'));
    assert.deepEqual(await readFile(join(s.out, now.get(1)!.files[0]!.path)), original, 'the real image is saved beside it');
    assert.equal(now.get(2)!.files[0]!.path, last.get(2)!.files[0]!.path, 'the lineless image of job 2 was replaced in place');
  });

  test("verify: 'size' trusts same-size files (cheap resume); a size change is still caught", async () => {
    const s = await scene(2);
    await s.run();
    const last = await lastByIndex(s.out);
    const f0 = join(s.out, last.get(0)!.files[0]!.path);
    const f1 = join(s.out, last.get(1)!.files[0]!.path);
    await writeFile(f0, flipByte(await readFile(f0), 0));
    await truncate(f1, (await stat(f1)).size - 1);
    await s.run({ verify: 'size' });
    assert.deepEqual(s.requests(), [1, 2]);
  });

  test('a torn last manifest line: that job runs again, the others do not, and the manifest is clean afterwards', async () => {
    const s = await scene();
    await s.run();
    const path = join(s.out, 'manifest.jsonl');
    const text = await readFile(path, 'utf8');
    const lastLine = text.trimEnd().split('\n').at(-1)!;
    const tornIndex = (JSON.parse(lastLine) as ManifestEntry).index;
    await truncate(path, Buffer.byteLength(text) - Math.ceil(Buffer.byteLength(lastLine) / 2));

    const summary = await s.run();
    assert.deepEqual(
      s.requests(),
      s.prompts.map((_, i) => (i === tornIndex ? 2 : 1)),
    );
    assert.equal(summary.succeeded, N);
    const reader = readManifest(s.out);
    const lines: ManifestEntry[] = [];
    for await (const e of reader) lines.push(e);
    assert.equal(lines.length, N, 'the torn half is gone, not kept beside the new line');
    assert.equal(reader.skipped, 0);
    assert.equal(reader.tornTail, false);
    await assertComplete(s.out, N);
  });

  test('a power-cut tail of NUL bytes (size grown, data never written) is cut off; nothing else is redone', async () => {
    const s = await scene();
    await s.run({}, s.prompts.slice(0, 4));
    await appendFile(join(s.out, 'manifest.jsonl'), Buffer.alloc(4096));
    const summary = await s.run();
    assert.deepEqual(s.requests(), ones(N));
    assert.equal(summary.skipped, 4);
    const reader = readManifest(s.out);
    let count = 0;
    for await (const _ of reader) count++;
    assert.equal(count, N);
    assert.equal(reader.skipped, 0);
    assert.equal(reader.tornTail, false);
    await assertComplete(s.out, N);
  });

  test('orphan temp files from a crash are removed, without error and without counting as anything', async () => {
    const s = await scene();
    await s.run({}, s.prompts.slice(0, 3));
    const names = await readdir(s.out);
    const img = names.find((x) => x.endsWith('.png'))!;
    const orphans = [`.${img}.0123456789ab.tmp`, '.0004-never-finished.png.abcdefabcdef.tmp', '.manifest.jsonl.fedcba987654.tmp'];
    for (const o of orphans) await writeFile(join(s.out, o), 'half an image');
    const summary = await s.run();
    assert.deepEqual(s.requests(), ones(N));
    assert.equal(summary.succeeded, N);
    assert.equal(summary.skipped, 3);
    for (const o of orphans) assert.equal(await stat(join(s.out, o)).catch(() => undefined), undefined, `${o} left behind`);
    await assertComplete(s.out, N);
  });

  test('--retry-failed re-runs only failed jobs (not the never-attempted); a plain resume then runs the rest', async () => {
    const s = await scene(8);
    // Jobs 1 and 3 are blocked once (terminal, not retried): they end as failed lines.
    emu.setFaults({ scripted: [1, 3].map((i) => ({ match: s.prompts[i]!, fault: 'promptBlock' as const, times: 1 })) });
    try {
      const first = await s.run({}, s.prompts.slice(0, 6));
      assert.equal(first.failed, 2);
      assert.equal(first.byReason.blocked, 2);
    } finally {
      emu.setFaults({ scripted: [] });
    }
    const retried = await s.run({ retryFailed: true });
    assert.deepEqual(s.requests(), [1, 2, 1, 2, 1, 1, 0, 0]);
    assert.equal(retried.failed, 0);
    assert.equal(retried.succeeded, 6);
    const last = await lastByIndex(s.out);
    assert.equal(last.get(1)?.status, 'succeeded');
    assert.equal(last.get(3)?.status, 'succeeded');

    await s.run();
    assert.deepEqual(s.requests(), [1, 2, 1, 2, 1, 1, 1, 1]);
    await assertComplete(s.out, 8);
  });

  test('a plain resume re-runs failed jobs too (everything not succeeded runs)', async () => {
    const s = await scene(3);
    emu.setFaults({ scripted: [{ match: s.prompts[0]!, fault: 'imageSafety', times: 1 }] });
    try {
      assert.equal((await s.run()).failed, 1);
    } finally {
      emu.setFaults({ scripted: [] });
    }
    const summary = await s.run();
    assert.deepEqual(s.requests(), [2, 1, 1]);
    assert.equal(summary.failed, 0);
    assert.equal(summary.succeeded, 3);
  });

  test('--fresh starts over: every job is requested again, one line each, and files we did not write survive', async () => {
    const s = await scene();
    await s.run();
    await writeFile(join(s.out, 'notes.txt'), 'mine');
    const summary = await s.run({ fresh: true });
    assert.deepEqual(s.requests(), Array.from({ length: N }, () => 2));
    assert.equal(summary.skipped, 0);
    assert.equal((await manifestLines(s.out)).length, N);
    assert.equal(await readFile(join(s.out, 'notes.txt'), 'utf8'), 'mine');
    await assertComplete(s.out, N);
  });

  test('a stop requested before the run (or while earlier images are verified) ends it cleanly with a summary', async () => {
    const s = await scene();
    await s.run({}, s.prompts.slice(0, 2));
    const stop = new AbortController();
    stop.abort(new Error('SIGINT'));
    const soft = await s.run({ stopSignal: stop.signal });
    assert.equal(soft.stoppedBy, 'SIGINT');
    const hard = await s.run({ signal: stop.signal });
    assert.equal(hard.stoppedBy, 'SIGINT');
    assert.deepEqual(s.requests(), [1, 1, 0, 0, 0, 0]);
    const summary = JSON.parse(await readFile(join(s.out, 'summary.json'), 'utf8')) as { succeeded: number; stoppedBy?: string };
    assert.equal(summary.succeeded, 2);
    assert.equal(summary.stoppedBy, 'SIGINT');
  });
});
