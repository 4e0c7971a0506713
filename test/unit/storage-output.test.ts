import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputFolder } from '../../src/storage/output.ts';
import { readManifest, type ManifestEntry } from '../../src/storage/manifest.ts';
import type { FailedResult, Job, RunSummary, SucceededResult } from '../../src/types.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-output-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = () => mkdtemp(join(root, `o${n++}-`));
const sha = (d: Uint8Array | string) => createHash('sha256').update(d).digest('hex');
const FIXED = () => new Date('2026-02-03T04:05:06.000Z');

function job(index: number, prompt: string, over: Partial<Job> = {}): Job {
  return { key: `key${index}`, index, prompt, ...over };
}

function ok(j: Job, datas: string[], over: Partial<SucceededResult> = {}): SucceededResult {
  return {
    status: 'succeeded',
    job: j,
    model: 'gemini-2.5-flash-image',
    attempts: 2,
    latencyMs: 1234.4,
    images: datas.map((d) => ({ mimeType: 'image/png', data: Buffer.from(d), bytes: 0, sha256: '' })),
    text: ['here you go'],
    from: 'api',
    ...over,
  };
}

async function entries(dir: string): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for await (const e of readManifest(dir)) out.push(e);
  return out;
}

describe('OutputFolder', () => {
  test('save writes images under safe names, fills SavedImage, then appends the manifest line', async () => {
    const dir = join(await fresh(), 'nested', 'out');
    const out = await OutputFolder.open(dir, { now: FIXED, fsync: 'always' });
    const r = ok(job(3, 'A red fox'), ['img-one', 'img-two'], { usage: { promptTokens: 1, candidatesTokens: 2, thoughtsTokens: 0, imageTokens: 2, totalTokens: 3 }, costUsd: 0.039 });
    const e = await out.save(r);
    assert.deepEqual(e, {
      v: 1,
      key: 'key3',
      index: 3,
      prompt: 'A red fox',
      status: 'succeeded',
      files: [
        { path: '0003-a-red-fox-1.png', bytes: 7, sha256: sha('img-one'), mimeType: 'image/png' },
        { path: '0003-a-red-fox-2.png', bytes: 7, sha256: sha('img-two'), mimeType: 'image/png' },
      ],
      attempts: 2,
      model: 'gemini-2.5-flash-image',
      latencyMs: 1234,
      finishedAt: '2026-02-03T04:05:06.000Z',
      from: 'api',
      text: ['here you go'],
      costUsd: 0.039,
      usage: { promptTokens: 1, candidatesTokens: 2, thoughtsTokens: 0, imageTokens: 2, totalTokens: 3 },
    });
    assert.deepEqual(r.images.map((i) => [i.file, i.bytes, i.sha256]), [
      ['0003-a-red-fox-1.png', 7, sha('img-one')],
      ['0003-a-red-fox-2.png', 7, sha('img-two')],
    ]);
    assert.equal(await readFile(join(dir, '0003-a-red-fox-2.png'), 'utf8'), 'img-two');
    await out.close();
    assert.deepEqual(await entries(dir), [e]);
  });

  test('failed results: no files, reason/message/blockReason/httpStatus kept, API keys redacted', async () => {
    const dir = await fresh();
    const out = await OutputFolder.open(dir, { now: FIXED });
    const f: FailedResult = {
      status: 'failed',
      job: job(0, 'x'),
      model: 'm',
      attempts: 5,
      latencyMs: 9,
      reason: 'quota',
      message: 'GET https://h/v1beta/models?key=AIzaSyA1234567890abcdefghijklmnopqrstuv failed for AIzaSyA1234567890abcdefghijklmnopqrstuv',
      httpStatus: 429,
    };
    const e = await out.save(f);
    await out.close();
    assert.equal(e.status, 'failed');
    assert.deepEqual(e.files, []);
    assert.equal(e.reason, 'quota');
    assert.equal(e.httpStatus, 429);
    assert.doesNotMatch(e.message ?? '', /AIza/);
    assert.equal(e.message, 'GET https://h/v1beta/models?key=[redacted] failed for [redacted]');
    assert.doesNotMatch(await readFile(join(dir, 'manifest.jsonl'), 'utf8'), /AIza/);
    const out2 = await OutputFolder.open(dir);
    const b = await out2.save({ ...f, reason: 'blocked', blockReason: 'IMAGE_SAFETY', message: 'blocked', httpStatus: undefined });
    await out2.close();
    assert.equal(b.blockReason, 'IMAGE_SAFETY');
    assert.equal('httpStatus' in b, false);
  });

  test('cached results are marked; hostile prompts and out stems stay inside the folder', async () => {
    const dir = await fresh();
    const out = await OutputFolder.open(dir);
    const e1 = await out.save(ok(job(0, '../../etc/passwd'), ['a'], { from: 'cache' }));
    const e2 = await out.save(ok(job(1, 'p', { out: '../../../tmp/evil' }), ['b']));
    const e3 = await out.save(ok(job(2, 'CON'), ['c']));
    await out.close();
    assert.equal(e1.cached, true);
    assert.equal(e1.from, 'cache');
    assert.deepEqual([e1, e2, e3].map((e) => e.files[0]?.path), ['0000-etc-passwd.png', '0001-tmp-evil.png', '0002-con-x.png']);
    assert.deepEqual((await readdir(dir)).sort(), ['0000-etc-passwd.png', '0001-tmp-evil.png', '0002-con-x.png', 'manifest.jsonl']);
  });

  test('writeSummary writes summary.json atomically', async () => {
    const dir = await fresh();
    const out = await OutputFolder.open(dir);
    const s: RunSummary = { total: 2, succeeded: 1, failed: 1, skipped: 0, cached: 0, byReason: { quota: 1 }, attempts: 3, wallMs: 10, imagesPerMinute: 6, averageImageBytes: 5, costUsd: 0.04 };
    await out.writeSummary(s);
    await out.close();
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')), s);
    assert.deepEqual((await readdir(dir)).filter((x) => x.endsWith('.tmp')), []);
  });

  test('open removes orphan temps; --fresh removes only what the manifest lists plus our fixed files', async () => {
    const dir = await fresh();
    const first = await OutputFolder.open(dir);
    await first.save(ok(job(0, 'one'), ['1']));
    await first.save(ok(job(1, 'two'), ['2']));
    await first.writeSummary({ total: 0, succeeded: 0, failed: 0, skipped: 0, cached: 0, byReason: {}, attempts: 0, wallMs: 0, imagesPerMinute: 0, averageImageBytes: 0, costUsd: 0 });
    await first.close();
    await writeFile(join(dir, 'index.html'), '<html>');
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await writeFile(join(dir, '0099-unrelated.png'), 'not in manifest');
    await writeFile(join(dir, '.0000-one.png.0123456789ab.tmp'), 'partial');
    const outside = join(root, 'precious.png');
    await writeFile(outside, 'do not touch');
    // A hand-edited line pointing outside the folder must not make --fresh delete that file.
    await appendFile(join(dir, 'manifest.jsonl'), `${JSON.stringify({ v: 1, key: 'evil', index: 9, prompt: 'x', status: 'succeeded', files: [{ path: '../precious.png', bytes: 1, sha256: 'x', mimeType: 'image/png' }], attempts: 1, model: 'm', latencyMs: 1, finishedAt: 'x' })}\n`);

    const again = await OutputFolder.open(dir, { fresh: true });
    await again.close();
    assert.deepEqual((await readdir(dir)).sort(), ['0099-unrelated.png', 'manifest.jsonl', 'notes.txt']);
    assert.equal(await readFile(join(dir, 'manifest.jsonl'), 'utf8'), '');
    assert.equal(await readFile(outside, 'utf8'), 'do not touch');
  });

  test('--fresh removes the gallery data files by name, and their folder only when nothing else is in it', async () => {
    for (const foreign of [false, true]) {
      const dir = await fresh();
      await mkdir(join(dir, 'gallery'));
      for (const name of ['jobs-00000.js', 'prompts-000.js', 'columns.js']) await writeFile(join(dir, 'gallery', name), '//');
      if (foreign) await writeFile(join(dir, 'gallery', 'my-notes.js'), 'mine');
      await (await OutputFolder.open(dir, { fresh: true })).close();
      if (foreign) assert.deepEqual(await readdir(join(dir, 'gallery')), ['my-notes.js']);
      else assert.ok(!(await readdir(dir)).includes('gallery'));
    }
  });

  test('without fresh, a second run appends to the same manifest', async () => {
    const dir = await fresh();
    for (const i of [0, 1]) {
      const o = await OutputFolder.open(dir);
      await o.save(ok(job(i, `p${i}`), [`d${i}`]));
      await o.close();
    }
    assert.deepEqual((await entries(dir)).map((e) => e.key), ['key0', 'key1']);
  });
});
