// The official @google/genai SDK in Vertex AI mode, unchanged, against the emulator: with tokens from the emulator
// playing the GCE metadata server (GCE_METADATA_HOST), and separately with an Express-mode key. A service-account
// file is not used here: the SDK would exchange it at Google's fixed token URL, which tests must never reach
// (our own client signs its JWT itself; test/integration/vertex-auth.test.ts covers that).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';

const MODEL = 'gemini-3-pro-image';

function imagePart(parts: { inlineData?: { data?: string; mimeType?: string }; thought?: boolean }[] | undefined) {
  return parts?.find((p) => p.inlineData?.data && !p.thought)?.inlineData;
}

describe('@google/genai in Vertex AI mode against the emulator', () => {
  let emu: Emulator;
  let scratch: string;
  const quiet = { warn: console.warn, debug: console.debug };

  before(async () => {
    console.warn = () => {};
    console.debug = () => {};
    scratch = await mkdtemp(join(tmpdir(), 'ib-sdk-vertex-'));
    emu = await startEmulator({ models: [MODEL], apiKey: 'express-key', vertex: { metadataProject: 'sdk-project', tokenLifetimeMs: 60_000 } });
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.GOOGLE_API_KEY;
    delete process.env.GEMINI_API_KEY;
    process.env.CLOUDSDK_CONFIG = join(scratch, 'gcloud');
    process.env.GCE_METADATA_HOST = new URL(emu.url).host;
    process.env.METADATA_SERVER_DETECTION = 'ping-only';
  });
  after(async () => {
    console.warn = quiet.warn;
    console.debug = quiet.debug;
    process.env.METADATA_SERVER_DETECTION = 'none';
    delete process.env.GCE_METADATA_HOST;
    await emu.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('project/location with Application Default Credentials from the metadata server generates an image', async () => {
    const ai = new GoogleGenAI({ vertexai: true, project: 'sdk-project', location: 'global', httpOptions: { baseUrl: emu.url } });
    const res = await ai.models.generateContent({ model: MODEL, contents: 'a lighthouse at dusk', config: { responseModalities: ['TEXT', 'IMAGE'] } });
    const img = imagePart(res.candidates?.[0]?.content?.parts);
    assert.ok(img?.data, 'an image part');
    assert.match(img.mimeType ?? '', /^image\//);
    assert.ok(emu.vertex.tokensIssued >= 1, 'the token came from the emulated metadata server');
    assert.equal(emu.counters.byRoute['vertex.generateContent'], 1);
  });

  test('an unknown model answers Vertex\'s 404 through the SDK', async () => {
    const ai = new GoogleGenAI({ vertexai: true, project: 'sdk-project', location: 'global', httpOptions: { baseUrl: emu.url } });
    await assert.rejects(ai.models.generateContent({ model: 'no-such-model', contents: 'x' }), /Publisher Model/);
  });

  test('Express mode (an API key, no project) generates an image', async () => {
    const ai = new GoogleGenAI({ vertexai: true, apiKey: 'express-key', httpOptions: { baseUrl: emu.url } });
    const res = await ai.models.generateContent({ model: MODEL, contents: 'a red kite', config: { responseModalities: ['TEXT', 'IMAGE'] } });
    assert.ok(imagePart(res.candidates?.[0]?.content?.parts)?.data);
    assert.equal(emu.counters.byRoute['vertexExpress.generateContent'], 1);
  });
});
