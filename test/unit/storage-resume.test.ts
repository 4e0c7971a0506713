import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputFolder } from '../../src/storage/output.ts';
import { loadResumeIndex } from '../../src/storage/resume.ts';
import type { Job, Result } from '../../src/types.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-resume-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = () => mkdtemp(join(root, `r${n++}-`));

function result(key: string, index: number, status: 'succeeded' | 'failed', data = `data-${key}`): Result {
  const job: Job = { key, index, prompt: `prompt ${key}` };
  if (status === 'failed') return { status, job, model: 'm', attempts: 3, latencyMs: 1, reason: 'server', message: 'boom', httpStatus: 503 };
  return { status, job, model: 'm', attempts: 1, latencyMs: 1, images: [{ mimeType: 'image/png', data: Buffer.from(data), bytes: 0, sha256: '' }], text: ['t'.repeat(50)] };
}

async function folderWith(results: Result[]): Promise<string> {
  const dir = await fresh();
  const out = await OutputFolder.open(dir);
  for (const r of results) await out.save(r);
  await out.close();
  return dir;
}

describe('loadResumeIndex', () => {
  test('an empty or missing folder has nothing done', async () => {
    const idx = await loadResumeIndex(join(root, 'missing'));
    assert.deepEqual([idx.size, idx.succeeded, idx.failed, idx.get('x')], [0, 0, 0, undefined]);
  });

  test('status of the LAST line per key; counts; entries are compact (no model text)', async () => {
    const dir = await folderWith([result('a', 0, 'failed'), result('b', 1, 'succeeded'), result('a', 0, 'succeeded'), result('c', 2, 'failed')]);
    const idx = await loadResumeIndex(dir);
    assert.equal(idx.get('a')?.status, 'succeeded');
    assert.equal(idx.get('b')?.status, 'succeeded');
    assert.equal(idx.get('c')?.status, 'failed');
    assert.equal(idx.get('c')?.reason, 'server');
    assert.equal(idx.get('zzz'), undefined);
    assert.deepEqual([idx.size, idx.succeeded, idx.failed, idx.invalid], [3, 2, 1, 0]);
    // Only what resume needs is kept per key: no prompt, text or file list once verified.
    assert.deepEqual(Object.keys(idx.get('a') ?? {}).sort(), ['finishedAtMs', 'reason', 'status']);
    assert.ok((idx.get('a')?.finishedAtMs ?? 0) > 0);
  });

  test('a succeeded entry whose file is missing, has the wrong size or the wrong hash is not done', async () => {
    const dir = await folderWith([result('ok', 0, 'succeeded'), result('gone', 1, 'succeeded'), result('size', 2, 'succeeded'), result('hash', 3, 'succeeded'), result('f', 4, 'failed')]);
    await unlink(join(dir, '0001-prompt-gone.png'));
    await writeFile(join(dir, '0002-prompt-size.png'), 'data-size-but-longer');
    await writeFile(join(dir, '0003-prompt-hash.png'), 'data-HASH'); // same length, different bytes
    const idx = await loadResumeIndex(dir);
    assert.equal(idx.get('ok')?.status, 'succeeded');
    assert.equal(idx.get('gone'), undefined);
    assert.equal(idx.get('size'), undefined);
    assert.equal(idx.get('hash'), undefined);
    assert.equal(idx.get('f')?.status, 'failed');
    assert.deepEqual([idx.size, idx.succeeded, idx.failed, idx.invalid], [2, 1, 1, 3]);

    const bySize = await loadResumeIndex(dir, { verify: 'size' });
    assert.equal(bySize.get('hash')?.status, 'succeeded', "verify:'size' does not re-hash");
    assert.equal(bySize.get('size'), undefined);
    assert.equal(bySize.get('gone'), undefined);
  });

  test('images on disk without a manifest line are not done', async () => {
    const dir = await folderWith([result('a', 0, 'succeeded')]);
    await writeFile(join(dir, '0001-prompt-b.png'), 'data-b');
    const idx = await loadResumeIndex(dir);
    assert.equal(idx.get('b'), undefined);
    assert.equal(idx.size, 1);
  });

  test('a torn last line and bad middle lines do not break resume; a line pointing outside the folder is not done', async () => {
    const dir = await folderWith([result('a', 0, 'succeeded'), result('b', 1, 'succeeded')]);
    const m = join(dir, 'manifest.jsonl');
    await writeFile(join(root, 'outside.png'), 'x');
    await appendFile(m, 'not json\n');
    await appendFile(m, `${JSON.stringify({ v: 1, key: 'out', index: 5, prompt: 'x', status: 'succeeded', files: [{ path: '../outside.png', bytes: 1, sha256: 'x', mimeType: 'image/png' }], attempts: 1, model: 'm', latencyMs: 1, finishedAt: 'x' })}\n`);
    await appendFile(m, '{"v":1,"key":"torn","ind');
    const idx = await loadResumeIndex(dir);
    assert.deepEqual([idx.get('a')?.status, idx.get('b')?.status, idx.get('out'), idx.get('torn')], ['succeeded', 'succeeded', undefined, undefined]);
    assert.equal(idx.skippedLines, 1);
  });

  test('an aborted signal rejects', async () => {
    const dir = await folderWith([result('a', 0, 'succeeded')]);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await assert.rejects(loadResumeIndex(dir, { signal: ac.signal }), /stop/);
  });
});
