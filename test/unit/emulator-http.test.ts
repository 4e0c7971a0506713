import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { startEmulator, EmulatorOptionError } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import type { ErrorBody, GenerateContentRequest, GenerateContentResponse } from '../../src/gemini/wire.ts';
import { GeminiClient } from '../../src/gemini/client.ts';
import { request as httpRequest } from 'node:http';

const FLASH = 'gemini-2.5-flash-image';

function post(emu: Emulator, path: string, body: unknown, headers: Record<string, string> = { 'x-goog-api-key': 'secret' }): Promise<Response> {
  return fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const ask = (prompt: string, extra: Record<string, unknown> = {}) => ({ contents: [{ role: 'user', parts: [{ text: prompt }] }], ...extra });

async function answer(emu: Emulator, prompt: string, model = FLASH, extra: Record<string, unknown> = {}): Promise<GenerateContentResponse> {
  const res = await post(emu, `/v1beta/models/${model}:generateContent`, ask(prompt, extra));
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as GenerateContentResponse;
}

function images(r: GenerateContentResponse): Buffer[] {
  return (r.candidates?.[0]?.content?.parts ?? []).filter((p) => p.inlineData && !p.thought).map((p) => Buffer.from(p.inlineData!.data, 'base64'));
}

describe('emulator HTTP surface', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ existingUser: true, apiKey: 'secret', seed: 7 });
  });
  after(() => emu.close());

  test('url is loopback with no trailing slash', () => {
    assert.match(emu.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('no key: 403 PERMISSION_DENIED with Google text', async () => {
    const res = await post(emu, `/v1beta/models/${FLASH}:generateContent`, ask('x'), {});
    assert.equal(res.status, 403);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.status, 'PERMISSION_DENIED');
    assert.match(body.error.message, /^Method doesn't allow unregistered callers/);
  });

  test('wrong key: 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID; the key is not echoed', async () => {
    const res = await post(emu, `/v1beta/models/${FLASH}:generateContent`, ask('x'), { 'x-goog-api-key': 'wrong-key-123' });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.ok(!text.includes('wrong-key-123'));
    const body = JSON.parse(text) as ErrorBody;
    assert.equal(body.error.message, 'API key not valid. Please pass a valid API key.');
    assert.equal(body.error.details?.[0]?.['@type'], 'type.googleapis.com/google.rpc.ErrorInfo');
    assert.equal((body.error.details?.[0] as { reason?: string }).reason, 'API_KEY_INVALID');
  });

  test('?key= is accepted like the header', async () => {
    const res = await post(emu, `/v1beta/models/${FLASH}:generateContent?key=secret`, ask('by query'), {});
    assert.equal(res.status, 200);
  });

  test('unknown model: 404 NOT_FOUND naming the model, API version and method', async () => {
    const res = await post(emu, '/v1alpha/models/gemini-9-ultra:generateContent', ask('x'));
    assert.equal(res.status, 404);
    const body = (await res.json()) as ErrorBody;
    assert.equal(
      body.error.message,
      'models/gemini-9-ultra is not found for API version v1alpha, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
    );
  });

  test('bad JSON, missing contents, empty text and text-only model with IMAGE: 400', async () => {
    const bad = await post(emu, `/v1beta/models/${FLASH}:generateContent`, '{"contents": [');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as ErrorBody).error.message, /^Invalid JSON payload received\./);
    const none = await post(emu, `/v1beta/models/${FLASH}:generateContent`, {});
    assert.equal(((await none.json()) as ErrorBody).error.status, 'INVALID_ARGUMENT');
    const empty = await post(emu, `/v1beta/models/${FLASH}:generateContent`, ask(''));
    assert.equal(empty.status, 400);
    const textModel = await post(emu, '/v1beta/models/gemini-2.5-flash:generateContent', ask('x', { generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } }));
    assert.equal(textModel.status, 400);
    assert.equal(((await textModel.json()) as ErrorBody).error.message, 'Model does not support the requested response modalities: image,text');
    const lowerK = await post(emu, `/v1beta/models/${FLASH}:generateContent`, ask('x', { generationConfig: { imageConfig: { imageSize: '1k' } } }));
    assert.equal(lowerK.status, 400);
  });

  test('answer shape: camelCase, text + PNG, usage with 1290 IMAGE tokens, responseId, JSON content type', async () => {
    const res = await post(emu, `/v1beta/models/${FLASH}:generateContent`, ask('A watercolor fox in the snow'));
    assert.equal(res.headers.get('content-type'), 'application/json; charset=UTF-8');
    const r = (await res.json()) as GenerateContentResponse & Record<string, unknown>;
    assert.deepEqual(Object.keys(r).sort(), ['candidates', 'modelVersion', 'responseId', 'usageMetadata']);
    const c = r.candidates![0]!;
    assert.equal(c.finishReason, 'STOP');
    assert.equal(c.index, 0);
    assert.equal(c.content?.role, 'model');
    assert.equal(typeof c.content?.parts?.[0]?.text, 'string');
    assert.equal(c.content?.parts?.[1]?.inlineData?.mimeType, 'image/png');
    assert.equal(r.modelVersion, FLASH);
    assert.match(r.responseId!, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(r.usageMetadata?.promptTokenCount, 6);
    assert.deepEqual(r.usageMetadata?.candidatesTokensDetails, [{ modality: 'IMAGE', tokenCount: 1290 }]);
    assert.equal(r.usageMetadata?.totalTokenCount, r.usageMetadata!.promptTokenCount! + r.usageMetadata!.candidatesTokenCount!);
  });

  test('snake_case request (inline_data, generation_config.response_modalities, image_config) is understood', async () => {
    const res = await post(emu, `/v1beta/models/${FLASH}:generateContent`, {
      contents: [{ parts: [{ text: 'edit this' }, { inline_data: { mime_type: 'image/png', data: 'iVBORw0KGgo=' } }] }],
      generation_config: { response_modalities: ['IMAGE'], image_config: { aspect_ratio: '16:9' } },
    });
    assert.equal(res.status, 200);
    const r = (await res.json()) as GenerateContentResponse;
    const parts = r.candidates?.[0]?.content?.parts ?? [];
    assert.equal(parts.length, 1, 'IMAGE only: no text part');
    const png = PNG.sync.read(Buffer.from(parts[0]!.inlineData!.data, 'base64'));
    assert.deepEqual([png.width, png.height], [168, 96]);
    assert.deepEqual(r.usageMetadata?.promptTokensDetails, [
      { modality: 'TEXT', tokenCount: 2 },
      { modality: 'IMAGE', tokenCount: 258 },
    ]);
  });

  test('images are deterministic per prompt and differ between prompts', async () => {
    const a1 = images(await answer(emu, 'a red bicycle'))[0]!;
    const a2 = images(await answer(emu, 'a red bicycle'))[0]!;
    const b = images(await answer(emu, 'a blue boat'))[0]!;
    assert.ok(a1.equals(a2));
    assert.ok(!a1.equals(b));
    const decoded = PNG.sync.read(a1);
    assert.deepEqual([decoded.width, decoded.height], [128, 128]);
    const seeded = images(await answer(emu, 'a red bicycle', FLASH, { generationConfig: { seed: 5 } }))[0]!;
    assert.ok(!seeded.equals(a1), 'the request seed changes the picture');
  });

  test('gemini-3-pro-image: thought text, interim thought image, final JPEG with thoughtSignature', async () => {
    const r = await answer(emu, 'a lighthouse', 'gemini-3-pro-image');
    const parts = r.candidates?.[0]?.content?.parts ?? [];
    assert.equal(parts[0]?.thought, true);
    assert.equal(typeof parts[0]?.text, 'string');
    assert.equal(parts[1]?.thought, true);
    assert.ok(parts[1]?.inlineData);
    const last = parts[parts.length - 1]!;
    assert.equal(last.inlineData?.mimeType, 'image/jpeg');
    assert.equal(last.thought, undefined);
    assert.match(last.thoughtSignature ?? '', /^[A-Za-z0-9+/]+=*$/);
    assert.ok(parts.slice(0, -1).every((p) => p.thoughtSignature === undefined));
    const jpg = jpeg.decode(Buffer.from(last.inlineData!.data, 'base64'));
    assert.deepEqual([jpg.width, jpg.height], [128, 128]);
    assert.deepEqual(r.usageMetadata?.candidatesTokensDetails, [{ modality: 'IMAGE', tokenCount: 1120 }]);
    assert.ok((r.usageMetadata?.thoughtsTokenCount ?? 0) > 0);
  });

  test('streaming: SSE events terminated by CRLF CRLF, text then image then finishReason with cumulative usage', async () => {
    const res = await post(emu, `/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`, ask('a kite'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const raw = await res.text();
    assert.ok(raw.endsWith('\r\n\r\n'));
    const events = raw.split('\r\n\r\n').filter(Boolean);
    assert.ok(events.every((e) => e.startsWith('data: ')));
    const chunks = events.map((e) => JSON.parse(e.slice(6)) as GenerateContentResponse);
    assert.equal(chunks.length, 3);
    assert.ok(chunks[0]!.candidates![0]!.content!.parts![0]!.text);
    assert.ok(chunks[1]!.candidates![0]!.content!.parts![0]!.inlineData);
    assert.equal(chunks[2]!.candidates![0]!.finishReason, 'STOP');
    assert.deepEqual(chunks[2]!.candidates![0]!.content, { role: 'model' });
    assert.ok(chunks[0]!.usageMetadata!.totalTokenCount! < chunks[1]!.usageMetadata!.totalTokenCount!);
    assert.deepEqual(chunks[2]!.usageMetadata, chunks[1]!.usageMetadata);
    assert.ok(chunks.every((c) => c.responseId === chunks[0]!.responseId));
  });

  test('stream errors before the first event are plain JSON errors', async () => {
    const res = await post(emu, '/v1beta/models/nope:streamGenerateContent?alt=sse', ask('x'));
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  });

  test('models list and get', async () => {
    const res = await fetch(`${emu.url}/v1beta/models`, { headers: { 'x-goog-api-key': 'secret' } });
    const body = (await res.json()) as { models: Array<{ name: string }> };
    assert.ok(body.models.some((m) => m.name === `models/${FLASH}`));
    const one = await fetch(`${emu.url}/v1beta/models/gemini-3-pro-image`, { headers: { 'x-goog-api-key': 'secret' } });
    assert.equal(one.status, 200);
  });

  test('imageBytes pads images to about the requested size and they still decode', async () => {
    const big = await startEmulator({ existingUser: true, imageBytes: 300_000 });
    try {
      const res = await post(big, `/v1beta/models/${FLASH}:generateContent`, ask('padded'), { 'x-goog-api-key': 'any' });
      const img = images((await res.json()) as GenerateContentResponse)[0]!;
      assert.equal(img.length, 300_000);
      assert.equal(PNG.sync.read(img).width, 128);
      const pro = await post(big, '/v1beta/models/gemini-3-pro-image:generateContent', ask('padded'), { 'x-goog-api-key': 'any' });
      const jpg = images((await pro.json()) as GenerateContentResponse)[0]!;
      assert.ok(Math.abs(jpg.length - 300_000) <= 4, String(jpg.length));
      assert.equal(jpeg.decode(jpg).width, 128);
    } finally {
      await big.close();
    }
  });

  test('options are validated at once and name the bad option', async () => {
    await assert.rejects(startEmulator({ timeScale: 0 }), (e: unknown) => e instanceof EmulatorOptionError && e.option === 'timeScale');
    await assert.rejects(startEmulator({ faults: { http500: 1.5 } }), /faults\.http500/);
    await assert.rejects(startEmulator({ faults: { http500: 0.6, http503: 0.6 } }), /sum to at most 1/);
    await assert.rejects(startEmulator({ latency: { distribution: 'gamma' as 'fixed', meanMs: 1 } }), /latency\.distribution/);
    await assert.rejects(startEmulator({ faults: { scripted: [{ match: 'x', fault: 'boom' as 'hang' }] } }), /faults\.scripted\[0\]\.fault/);
    await assert.rejects(startEmulator({ apiKey: '' }), (e: unknown) => e instanceof EmulatorOptionError && e.option === 'apiKey');
  });

  test('close() ends keep-alive connections promptly', async () => {
    const e2 = await startEmulator({ existingUser: true });
    const res = await post(e2, `/v1beta/models/${FLASH}:generateContent`, ask('x'), { 'x-goog-api-key': 'k' });
    await res.arrayBuffer();
    await e2.close();
    await assert.rejects(post(e2, `/v1beta/models/${FLASH}:generateContent`, ask('x'), { 'x-goog-api-key': 'k' }));
  });
});

describe('emulator gzip (as the real API answers)', () => {
  test('gzip: true compresses generateContent answers for clients that ask, and our client reads the same image', async () => {
    const plain = await startEmulator({ existingUser: true, seed: 3, imageBytes: 200_000 });
    const packed = await startEmulator({ existingUser: true, seed: 3, imageBytes: 200_000, gzip: true });
    try {
      const body = JSON.stringify(ask('a lighthouse'));
      const url = (emu: Emulator) => `${emu.url}/v1beta/models/${FLASH}:generateContent`;
      const head = (emu: Emulator, encoding: string) => {
        return new Promise<{ encoding: string | undefined; length: number }>((resolve, reject) => {
          const req = httpRequest(url(emu), { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k', 'accept-encoding': encoding } }, (res) => {
            let length = 0;
            res.on('data', (d: Buffer) => (length += d.length));
            res.on('end', () => resolve({ encoding: res.headers['content-encoding'], length }));
          });
          req.on('error', reject);
          req.end(body);
        });
      };
      const gz = await head(packed, 'gzip, deflate');
      const raw = await head(packed, 'identity');
      assert.equal(gz.encoding, 'gzip');
      assert.equal(raw.encoding, undefined, 'a client that does not ask gets identity');
      assert.ok(gz.length < raw.length, `compressed ${gz.length} < ${raw.length}`);
      assert.equal((await head(plain, 'gzip')).encoding, undefined, 'off by default');

      // Our client (fetch) asks for gzip by itself, and the image comes out the same as from the plain emulator.
      const encodings: (string | null)[] = [];
      const watching: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        encodings.push(res.headers.get('content-encoding'));
        return res;
      };
      const request = ask('a lighthouse') as GenerateContentRequest;
      const a = await new GeminiClient({ apiKey: 'k', baseUrl: plain.url, fetch: watching }).generateContent(FLASH, request);
      const b = await new GeminiClient({ apiKey: 'k', baseUrl: packed.url, fetch: watching }).generateContent(FLASH, request);
      assert.deepEqual(encodings, [null, 'gzip']);
      assert.equal(a.kind, 'image');
      assert.equal(b.kind, 'image');
      if (a.kind === 'image' && b.kind === 'image') assert.ok(Buffer.from(b.images[0]!.data).equals(Buffer.from(a.images[0]!.data)));
    } finally {
      await plain.close();
      await packed.close();
    }
  });
});
