// The emulator in the corner cases: oversize URLs and headers, malformed HTTP, field types, invalid base64.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import type { ErrorBody } from '../../src/gemini/wire.ts';

const FLASH = 'gemini-2.5-flash-image';
const KEY = { 'x-goog-api-key': 'secret' };

/** Sends raw bytes and returns status, content type and body of the answer (the server closes or answers once). */
function raw(emu: Emulator, bytes: string): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(emu.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname);
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.on('error', reject);
    s.on('close', () => {
      const [head = '', body = ''] = got.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? '', body });
    });
    s.end(bytes);
  });
}

function googleError(text: string, status: string): ErrorBody {
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(body.error.status, status, text);
  assert.equal(typeof body.error.message, 'string');
  return body;
}

describe('emulator corner cases', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ existingUser: true, apiKey: 'secret', seed: 1 });
  });
  after(() => emu.close());

  const generate = (body: unknown) =>
    fetch(`${emu.url}/v1beta/models/${FLASH}:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json', ...KEY }, body: JSON.stringify(body) });
  const withConfig = (generationConfig: Record<string, unknown>) => ({ contents: [{ parts: [{ text: 'a fox' }] }], generationConfig });

  test('a 20 KB URL: 414 with a Google-shaped JSON body; a short one still works', async () => {
    const res = await fetch(`${emu.url}/v1beta/models/${FLASH}?pad=${'x'.repeat(20 * 1024)}`, { headers: KEY });
    assert.equal(res.status, 414);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(googleError(await res.text(), 'INVALID_ARGUMENT').error.message, /URL is too large/);
    assert.equal((await fetch(`${emu.url}/v1beta/models/${FLASH}`, { headers: KEY })).status, 200);
  });

  test('headers past the limit: 431 with a JSON body (Node answers an empty 431 by default)', async () => {
    const r = await raw(emu, `GET /v1beta/models HTTP/1.1\r\nHost: x\r\nx-pad: ${'y'.repeat(80 * 1024)}\r\n\r\n`);
    assert.equal(r.status, 431);
    assert.match(r.type, /^application\/json/);
    googleError(r.body, 'INVALID_ARGUMENT');
  });

  test('malformed HTTP: 400 INVALID_ARGUMENT as JSON, and the emulator keeps serving', async () => {
    for (const bad of ['NOT HTTP AT ALL\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'GET / HTTP/1.1\r\nbad header line\r\n\r\n']) {
      const r = await raw(emu, bad);
      assert.equal(r.status, 400, bad);
      assert.match(r.type, /^application\/json/);
      assert.equal(googleError(r.body, 'INVALID_ARGUMENT').error.code, 400);
    }
    assert.equal((await fetch(`${emu.url}/v1beta/models`, { headers: KEY })).status, 200);
  });

  test('option types: a non-integer seed, a string temperature or a numeric aspect ratio is 400 naming the field', async () => {
    for (const [config, message] of [
      [{ seed: 'abc' }, `Invalid value at 'generation_config.seed' (TYPE_INT32), "abc"`],
      [{ seed: 1.5 }, `Invalid value at 'generation_config.seed' (TYPE_INT32), 1.5`],
      [{ seed: 2 ** 31 }, `Invalid value at 'generation_config.seed' (TYPE_INT32), 2147483648`],
      [{ temperature: 'hot' }, `Invalid value at 'generation_config.temperature' (TYPE_FLOAT), "hot"`],
      [{ candidateCount: true }, `Invalid value at 'generation_config.candidate_count' (TYPE_INT32), true`],
      [{ imageConfig: { aspectRatio: 16 } }, `Invalid value at 'generation_config.image_config.aspect_ratio' (TYPE_STRING), 16`],
    ] as const) {
      const res = await generate(withConfig(config));
      assert.equal(res.status, 400, JSON.stringify(config));
      assert.equal(googleError(await res.text(), 'INVALID_ARGUMENT').error.message, message);
    }
    // proto3 JSON allows an int32 as a decimal string.
    assert.equal((await generate(withConfig({ seed: '42', temperature: 0.5 }))).status, 200);
  });

  test('inline data that is not base64: 400 INVALID_ARGUMENT; standard and URL-safe base64 pass', async () => {
    const withImage = (data: string) => ({ contents: [{ parts: [{ text: 'edit' }, { inlineData: { mimeType: 'image/png', data } }] }] });
    for (const data of ['not base64!', 'abcde', 'ab=c', '****']) {
      const res = await generate(withImage(data));
      assert.equal(res.status, 400, data);
      assert.match(googleError(await res.text(), 'INVALID_ARGUMENT').error.message, /^Invalid value at 'contents\[0\]\.parts\[1\]\.inline_data\.data' \(TYPE_BYTES\), .*Base64 decoding failed$/);
    }
    for (const data of ['iVBORw0KGgo=', 'iVBORw0KGgo', 'ab-_', '']) assert.equal((await generate(withImage(data))).status, 200, data);
  });
});
