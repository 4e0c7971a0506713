import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { summarize } from '../../src/report/summary.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';

const T0 = Date.parse('2026-10-01T12:00:00.000Z');

function entry(key: string, over: Partial<ManifestEntry> = {}): ManifestEntry {
  const ok = (over.status ?? 'succeeded') === 'succeeded';
  return {
    v: 1,
    key,
    index: 0,
    prompt: `prompt ${key}`,
    status: 'succeeded',
    files: ok ? [{ path: `${key}.png`, bytes: 1000, sha256: 'a'.repeat(64), mimeType: 'image/png' }] : [],
    attempts: 1,
    model: 'gemini-2.5-flash-image',
    latencyMs: 1000,
    costUsd: ok ? 0.039 : 0,
    finishedAt: new Date(T0).toISOString(),
    ...over,
  };
}

const at = (ms: number) => new Date(T0 + ms).toISOString();

describe('summarize', () => {
  test('the last line per key wins for counts; attempts and cost add up every line', async () => {
    const s = await summarize(
      [
        entry('a', { status: 'failed', reason: 'quota', message: '429', attempts: 3, costUsd: 0 }),
        entry('b', { status: 'failed', reason: 'no_image', attempts: 2, costUsd: 0.001 }),
        entry('a', { attempts: 1 }),
        entry('c', { status: 'failed', reason: 'blocked', blockReason: 'IMAGE_SAFETY' }),
      ],
      { wallMs: 60_000 },
    );
    assert.equal(s.total, 3);
    assert.equal(s.succeeded, 1);
    assert.equal(s.failed, 2);
    assert.deepEqual(s.byReason, { no_image: 1, blocked: 1 });
    assert.equal(s.attempts, 3 + 2 + 1 + 1);
    assert.equal(s.costUsd, 0.04);
    assert.equal(s.skipped, 0);
  });

  test('a later failure overrides an earlier success too', async () => {
    const s = await summarize([entry('a'), entry('a', { status: 'failed', reason: 'server' })], { wallMs: 1000 });
    assert.equal(s.succeeded, 0);
    assert.deepEqual(s.byReason, { server: 1 });
  });

  test('throughput: images generated (not cached) per minute of wall time; average image size', async () => {
    const files = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => ({ path: `x${i}.png`, bytes, sha256: '0', mimeType: 'image/png' }));
    const s = await summarize(
      [
        entry('a', { files: files(2, 3000), finishedAt: at(10_000) }),
        entry('b', { files: files(1, 6000), finishedAt: at(20_000) }),
        entry('c', { files: files(1, 1000), cached: true, costUsd: 0, finishedAt: at(30_000) }),
        entry('d', { files: files(1, 2000), from: 'cache', costUsd: 0, finishedAt: at(30_000) }),
      ],
      { wallMs: 30_000, total: 10, skipped: 4 },
    );
    assert.equal(s.imagesPerMinute, 6); // 3 generated images in 30 s
    assert.equal(s.cached, 2);
    assert.equal(s.averageImageBytes, Math.round((3000 * 2 + 6000 + 1000 + 2000) / 5));
    assert.equal(s.total, 10);
    assert.equal(s.skipped, 4);
    assert.equal(s.wallMs, 30_000);
  });

  test('images finished before this run started do not count toward its rate', async () => {
    const lines = [entry('old', { finishedAt: at(0) }), entry('new', { finishedAt: at(3_600_000) })];
    const byDefault = await summarize(lines, { wallMs: 60_000 });
    assert.equal(byDefault.succeeded, 2);
    assert.equal(byDefault.imagesPerMinute, 1);
    const explicit = await summarize(lines, { wallMs: 60_000, startedAt: T0 - 1 });
    assert.equal(explicit.imagesPerMinute, 2);
  });

  test('async iterables, empty manifests and zero wall time', async () => {
    async function* gen() {
      yield entry('a');
    }
    assert.equal((await summarize(gen(), { wallMs: 0 })).imagesPerMinute, 0);
    const empty = await summarize([], { wallMs: 5 });
    assert.deepEqual(empty, {
      total: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      cached: 0,
      byReason: {},
      attempts: 0,
      wallMs: 5,
      imagesPerMinute: 0,
      averageImageBytes: 0,
      costUsd: 0,
      folder: { jobs: 0, succeeded: 0, failed: 0, images: 0, costUsd: 0 },
    });
  });

  test('three scopes: this input (top level), this run (lines since startedAt), the folder (every key)', async () => {
    const s = await summarize(
      [
        // An earlier run: the same prompts at another aspect ratio (other keys), and job x of this input.
        entry('wide1', { finishedAt: at(0) }),
        entry('wide2', { finishedAt: at(0) }),
        entry('x', { finishedAt: at(0), costUsd: 0.039 }),
        // This run (started at +10 s): y failed, z came from the cache.
        entry('y', { status: 'failed', reason: 'server', finishedAt: at(11_000), costUsd: 0, attempts: 3 }),
        entry('z', { from: 'cache', cached: true, finishedAt: at(12_000), costUsd: 0 }),
      ],
      { wallMs: 5000, startedAt: T0 + 10_000, total: 4, skipped: 1, inputKeys: new Set(['x', 'y', 'z']) },
    );
    assert.deepEqual([s.total, s.succeeded, s.failed, s.cached, s.skipped, s.attempts, s.costUsd], [4, 2, 1, 1, 1, 5, 0.039]);
    assert.deepEqual(s.run, { succeeded: 1, failed: 1, cached: 1, attempts: 4, costUsd: 0 });
    assert.deepEqual(s.folder, { jobs: 5, succeeded: 4, failed: 1, images: 4, costUsd: 0.117 });
  });
  test('a line without costUsd (a model newer than the registry) is counted as unpriced in each scope, never as $0', async () => {
    const s = await summarize(
      [
        entry('old', { model: 'gemini-9-image', costUsd: undefined, finishedAt: at(-60_000) }),
        entry('x', { finishedAt: at(1000) }),
        entry('y', { model: 'gemini-9-image', costUsd: undefined, finishedAt: at(2000) }),
        entry('z', { model: 'gemini-9-image', status: 'failed', reason: 'no_image', costUsd: undefined, finishedAt: at(3000) }),
        entry('w', { model: 'gemini-9-image', status: 'failed', reason: 'server', costUsd: 0, finishedAt: at(4000) }),
      ],
      { wallMs: 5000, startedAt: T0, inputKeys: new Set(['x', 'y', 'z', 'w']) },
    );
    assert.equal(s.costUsd, 0.039, 'the known part');
    assert.deepEqual(s.unpriced, { answers: 2, images: 1, models: ['gemini-9-image'] }, 'a text-only answer is billed too; an error is not');
    assert.deepEqual(s.run?.unpriced, { answers: 2, images: 1, models: ['gemini-9-image'] });
    assert.deepEqual(s.folder?.unpriced, { answers: 3, images: 2, models: ['gemini-9-image'] });
    const priced = await summarize([entry('x')], { wallMs: 1000, startedAt: T0 });
    assert.equal('unpriced' in priced || 'unpriced' in priced.run! || 'unpriced' in priced.folder!, false, 'absent when every price is known');
  });
});
