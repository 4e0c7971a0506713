// The client and the outcome parser against real recorded Gemini answers, served byte for byte on loopback.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GeminiClient } from '../../src/gemini/client.ts';
import { outcomeFromError } from '../../src/gemini/outcome.ts';
import { runToDisk } from '../../src/run-disk.ts';
import { BillingError, PermissionError } from '../../src/errors.ts';
import type { GenerateContentRequest } from '../../src/gemini/wire.ts';
import { replayServer } from '../helpers/replay-server.ts';
import { recorded } from '../helpers/replay.ts';
import { manifestOf, tempDir } from '../helpers/emu.ts';

const KEY = 'replay-test-key-0123456789';
const REQ: GenerateContentRequest = { contents: [{ role: 'user', parts: [{ text: 'Generate an image of the Eiffel tower with fireworks in the background.' }] }] };

async function answerOf(name: string) {
  const s = await replayServer([name]);
  try {
    return await new GeminiClient({ apiKey: KEY, baseUrl: s.url, env: {} }).generateContent('gemini-2.0-flash-preview-image-generation', REQ);
  } finally {
    await s.close();
  }
}

describe('replay: the client reads real recorded answers', () => {
  test('the recorded PNG answer: one image of 990,040 bytes, its text and usage', async () => {
    const o = await answerOf('200-generate-image-png');
    assert.equal(o.kind, 'image');
    if (o.kind !== 'image') return;
    assert.equal(o.images.length, 1);
    assert.equal(o.images[0]!.mimeType, 'image/png');
    assert.equal(o.images[0]!.data.byteLength, 990_040);
    assert.match(o.text.join(''), /Eiffel Tower/);
    assert.deepEqual(o.usage, { promptTokens: 15, candidatesTokens: 1318, thoughtsTokens: 0, imageTokens: 1290, totalTokens: 1333 });
    assert.equal(o.responseId, 'mS77aIOaD5qFvr0P1b_T4AY');
  });

  for (const name of ['400-api-key-invalid', '403-service-disabled', '403-leaked-key', '404-model-not-found', '429-minute-and-day', '429-free-tier-minute-and-day', '429-day-only', '429-limit-0', '429-prepayment-depleted', '429-no-details', '500-internal', '503-overloaded', '503-model-capacity-exhausted']) {
    test(`${name}: over HTTP the same outcome as parsing the recorded body`, async () => {
      const r = recorded(name);
      const o = await answerOf(name);
      assert.equal(o.kind, 'error');
      assert.deepEqual(o, outcomeFromError(r.status, r.body.toString('utf8'), new Headers(r.headers), { now: 0 }));
    });
  }
});

describe('replay: whole runs against recorded answers', () => {
  test('the recorded image lands on disk with its real 510×1024 size, flagged when 1:1 was asked', async () => {
    const s = await replayServer(['200-generate-image-png']);
    const { dir, cleanup } = await tempDir();
    try {
      const warnings: string[] = [];
      await runToDisk([{ prompt: 'the Eiffel tower', aspectRatio: '1:1' }], {
        apiKey: KEY,
        baseUrl: s.url,
        out: dir,
        cacheDir: false,
        onEvent: (e) => e.type === 'warning' && warnings.push(e.message),
      });
      const [entry] = await manifestOf(dir);
      assert.equal(entry?.status, 'succeeded');
      const f = entry!.files[0]!;
      assert.deepEqual([f.width, f.height], [510, 1024]);
      assert.equal(f.sizeMismatch, 'asked for aspectRatio 1:1, got 510×1024');
      assert.deepEqual(warnings, [`${f.path}: asked for aspectRatio 1:1, got 510×1024`]);
    } finally {
      await cleanup();
      await s.close();
    }
  });

  test('billing 429: the run stops at once with BillingError (exit 3 in the CLI), nothing retried', async () => {
    const s = await replayServer(['429-prepayment-depleted']);
    const { dir, cleanup } = await tempDir();
    try {
      await assert.rejects(
        runToDisk(['a', 'b', 'c', 'd', 'e', 'f'], { apiKey: KEY, baseUrl: s.url, out: dir, cacheDir: false, concurrency: 2, adaptive: false }),
        (e: unknown) => e instanceof BillingError && /billing, not rate: Your prepayment credits are depleted/.test(e.message),
      );
      assert.ok(s.requests.length <= 2, `${s.requests.length} requests`);
    } finally {
      await cleanup();
      await s.close();
    }
  });

  test('403 SERVICE_DISABLED: the run stops with the activation link', async () => {
    const s = await replayServer(['403-service-disabled']);
    const { dir, cleanup } = await tempDir();
    try {
      await assert.rejects(runToDisk(['a'], { apiKey: KEY, baseUrl: s.url, out: dir, cacheDir: false }), (e: unknown) => {
        assert.ok(e instanceof PermissionError);
        assert.match(e.message, /enable it at https:\/\/console\.developers\.google\.com\/apis\/api\/generativelanguage\.googleapis\.com\/overview\?project=411082643095/);
        return true;
      });
      const manifest = await readFile(join(dir, 'manifest.jsonl'), 'utf8').catch(() => '');
      assert.ok(!manifest.includes(KEY));
    } finally {
      await cleanup();
      await s.close();
    }
  });
});
