// Preflight: models.get once per distinct model, a 404 read for its reason and answered with the registry's
// replacement, transient failures retried by the one retry policy; and the emulator's line-up behind it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelNotFoundError } from '../../src/errors.ts';
import { GeminiClient } from '../../src/gemini/client.ts';
import { listModels } from '../../src/gemini/models.ts';
import { DEFAULT_MODEL, MODELS, explainUnavailable } from '../../src/models/index.ts';
import { preflightModels } from '../../src/preflight.ts';
import { withEmulator } from '../helpers/emu.ts';

const KEY = 'preflight-key';
const client = (url: string) => new GeminiClient({ apiKey: KEY, baseUrl: url });

async function refusal(models: string[], existingUser = false): Promise<ModelNotFoundError> {
  return withEmulator({ existingUser }, async (emu) => {
    const e = await preflightModels(client(emu.url), models).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof ModelNotFoundError, `got ${String(e)}`);
    assert.equal(emu.counters.byRoute.generateContent ?? 0, 0);
    return e;
  });
}

describe('preflight', () => {
  test('a shut-down preview: stopped with its shutdown date and the GA replacement', async () => {
    const e = await refusal([DEFAULT_MODEL, 'gemini-3-pro-image-preview']);
    assert.equal(e.reason, 'shut_down');
    assert.equal(e.model, 'gemini-3-pro-image-preview');
    assert.equal(e.replacement, 'gemini-3-pro-image');
    assert.match(e.message, /^gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image \(server: This model models\/gemini-3-pro-image-preview is no longer available/);
  });

  test('a model closed to new users: its own reason; an existing project may use it', async () => {
    const e = await refusal(['gemini-2.5-flash-image']);
    assert.equal(e.reason, 'closed_to_new_users');
    assert.match(e.message, /no longer available to new users.*; use gemini-nano-banana-2\.1/);
    await withEmulator({ existingUser: true }, async (emu) => {
      const seen = await preflightModels(client(emu.url), ['gemini-2.5-flash-image']);
      assert.equal(seen.get('gemini-2.5-flash-image')?.name, 'models/gemini-2.5-flash-image');
    });
  });

  test('a model that never existed: "not found", and the way to see what does', async () => {
    const e = await refusal(['gemini-0-nope-image']);
    assert.equal(e.reason, 'not_found');
    assert.equal(e.replacement, undefined);
    assert.match(e.message, /gemini-0-nope-image is not a model this key can call.*imagebatch models.*is not found for API version v1beta/);
  });

  test('each distinct model is asked once, in any spelling', async () => {
    await withEmulator({}, async (emu) => {
      const seen = await preflightModels(client(emu.url), [DEFAULT_MODEL, `models/${DEFAULT_MODEL}`, 'gemini-3-pro-image', DEFAULT_MODEL.toUpperCase()]);
      assert.deepEqual([...seen.keys()], [DEFAULT_MODEL, 'gemini-3-pro-image']);
      assert.equal(emu.counters.byRoute.modelsGet, 2);
    });
  });

  test('a transient 503 is retried by the retry policy; a bad key stops at once', async () => {
    let calls = 0;
    const flaky: typeof fetch = async () => {
      calls++;
      if (calls === 1) return new Response(JSON.stringify({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } }), { status: 503 });
      return new Response(JSON.stringify({ name: `models/${DEFAULT_MODEL}` }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const slept: number[] = [];
    const c = new GeminiClient({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9', fetch: flaky });
    await preflightModels(c, [DEFAULT_MODEL], { sleep: async (ms) => void slept.push(ms), random: () => 0.5 });
    assert.equal(calls, 2);
    assert.equal(slept.length, 1);
    await withEmulator({ apiKey: 'the-right-key' }, async (emu) => {
      await assert.rejects(preflightModels(client(emu.url), [DEFAULT_MODEL]), (e: unknown) => (e as Error).name === 'AuthError');
    });
  });
});

describe('404 explanations', () => {
  test('the three server messages, and a retired id answered as "not found"', () => {
    assert.equal(explainUnavailable('models/gemini-3.1-flash-image-preview', 'This model models/gemini-3.1-flash-image-preview is no longer available.').text,
      'gemini-3.1-flash-image-preview was shut down on 2026-06-25; use gemini-nano-banana-2.1');
    assert.equal(explainUnavailable('imagen-4.0-generate-001', 'models/imagen-4.0-generate-001 is not found for API version v1beta').reason, 'shut_down');
    assert.equal(explainUnavailable('gemini-2.5-flash-image', 'This model models/gemini-2.5-flash-image is no longer available to new users.').reason, 'closed_to_new_users');
  });
});

describe('emulator line-up', () => {
  test('models.list is paged and lists exactly the models a new user may call', async () => {
    await withEmulator({ existingUser: false }, async (emu) => {
      const all = [];
      for await (const m of listModels(client(emu.url), { pageSize: 2 })) all.push(m);
      const ids = all.map((m) => m.name?.replace('models/', ''));
      const expected = MODELS.filter((m) => m.status !== 'shut_down' && m.status !== 'restricted').map((m) => m.id);
      for (const id of expected) assert.ok(ids.includes(id), id);
      assert.ok(!ids.includes('gemini-2.5-flash-image') && !ids.includes('gemini-3-pro-image-preview'));
      assert.ok((emu.counters.byRoute.modelsList ?? 0) >= 3, 'more than one page');
      const nb = all.find((m) => m.name === `models/${DEFAULT_MODEL}`)!;
      assert.equal(nb.displayName, 'Nano Banana 2.1');
      assert.equal(nb.thinking, true);
      assert.ok(nb.supportedGenerationMethods?.includes('generateContent') && nb.supportedGenerationMethods.includes('batchGenerateContent'));
      const bad = await fetch(`${emu.url}/v1beta/models?pageToken=bogus`, { headers: { 'x-goog-api-key': KEY } });
      assert.equal(bad.status, 400);
    });
  });

  test('per-model rules are 400 INVALID_ARGUMENT: 512 on 2.1, 2K on Lite, any size on 2.5, a level Pro does not take', async () => {
    await withEmulator({ existingUser: true }, async (emu) => {
      const ask = async (model: string, generationConfig: object) => {
        const res = await fetch(`${emu.url}/v1beta/models/${model}:generateContent`, {
          method: 'POST',
          headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ contents: [{ parts: [{ text: 'a cat' }] }], generationConfig }),
        });
        const body = (await res.json()) as { error?: { status: string; message: string } };
        return [res.status, body.error?.status ?? 'OK'];
      };
      assert.deepEqual(await ask(DEFAULT_MODEL, { imageConfig: { imageSize: '512' } }), [400, 'INVALID_ARGUMENT']);
      assert.deepEqual(await ask(DEFAULT_MODEL, { imageConfig: { imageSize: '4K', aspectRatio: '8:1' }, thinkingConfig: { thinkingLevel: 'HIGH' } }), [200, 'OK']);
      assert.deepEqual(await ask('gemini-3.1-flash-lite-image', { imageConfig: { imageSize: '2K' } }), [400, 'INVALID_ARGUMENT']);
      assert.deepEqual(await ask('gemini-2.5-flash-image', { imageConfig: { imageSize: '1K' } }), [400, 'INVALID_ARGUMENT']);
      assert.deepEqual(await ask('gemini-2.5-flash-image', { imageConfig: { aspectRatio: '16:9' } }), [200, 'OK']);
      assert.deepEqual(await ask('gemini-3-pro-image', { imageConfig: { aspectRatio: '1:8' } }), [400, 'INVALID_ARGUMENT']);
      assert.deepEqual(await ask('gemini-3-pro-image', { thinkingConfig: { thinkingLevel: 'MINIMAL' } }), [400, 'INVALID_ARGUMENT']);
    });
  });

  test('usage tokens per image come from the registry, by size', async () => {
    await withEmulator({}, async (emu) => {
      const res = await fetch(`${emu.url}/v1beta/models/${DEFAULT_MODEL}:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'a wide cat' }] }], generationConfig: { imageConfig: { imageSize: '4K' } } }),
      });
      const body = (await res.json()) as { usageMetadata?: { candidatesTokensDetails?: Array<{ modality: string; tokenCount: number }> } };
      const image = body.usageMetadata?.candidatesTokensDetails?.find((d) => d.modality === 'IMAGE');
      assert.equal(image?.tokenCount, MODELS.find((m) => m.id === DEFAULT_MODEL)!.tokensPerImage['4K']);
    });
  });
});
