// A results file of more than 50 MB is processed as a stream: memory stays far below the file's size.
// Only a generous bound is asserted; the measured figure belongs in the benchmark (bench/batch-fetch.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectBatch, submitBatch } from '../../src/batch/index.ts';
import { entriesByKey, images, jobs, setup } from './batch-helpers.ts';

const MB = 1024 * 1024;

test('a 50 MB results file is collected with bounded memory', async (t) => {
  // Each answer carries a ~40 KB image, so each results line is ~54 KB of base64 JSON.
  const env = await setup({ imageBytes: 40_000 });
  try {
    const dir = env.dir('out');
    const n = 1000;
    await submitBatch(jobs(n), { ...env.client, out: dir });

    let downloaded = 0;
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes(':download') || !res.body) return res;
      const counted = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            downloaded += chunk.byteLength;
            c.enqueue(chunk);
          },
        }),
      );
      return new Response(counted, { status: res.status, headers: res.headers });
    };

    globalThis.gc?.();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakRss = base.rss;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 5);
    let r;
    try {
      r = await collectBatch(dir, { ...env.client, fetch: counting, gallery: false });
    } finally {
      clearInterval(sampler);
    }
    assert.equal(r.saved, n);
    assert.ok(downloaded > 50 * MB, `results file was only ${(downloaded / MB).toFixed(1)} MB`);
    const heapGrowth = peakHeap - base.heapUsed;
    const rssGrowth = peakRss - base.rss;
    t.diagnostic(`read ${(downloaded / MB).toFixed(1)} MB; heap +${(heapGrowth / MB).toFixed(1)} MB, rss +${(rssGrowth / MB).toFixed(1)} MB`);
    assert.ok(heapGrowth < 150 * MB, `heap grew ${(heapGrowth / MB).toFixed(1)} MB while reading ${(downloaded / MB).toFixed(1)} MB`);
    assert.ok(rssGrowth < 300 * MB, `rss grew ${(rssGrowth / MB).toFixed(1)} MB`);
    assert.equal((await entriesByKey(dir)).size, n);
    const files = await images(dir);
    assert.equal(files.size, n);
  } finally {
    await env.close();
  }
});
