// The emulator answers in the same JSON shapes as the real recorded answers (test/fixtures/replay): every field
// path and value type of a recording appears in the emulator's answer to the same situation, and nothing else.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { recorded } from '../helpers/replay.ts';
import { withEmulator } from '../helpers/emu.ts';
import type { FaultKind } from '../../src/emulator/index.ts';

const GOOD = 'shape-test-key-0123456789';

/** Field paths with value types; arrays collapsed, `@type` values kept (they name the detail). */
function shape(v: unknown, p = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) shape(x, `${p}[]`, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '@type') out.add(`${p}.@type=${String(x)}`);
      else shape(x, `${p}.${k}`, out);
    }
  }
  else out.add(`${p}:${typeof v}`);
  return out;
}

async function generate(url: string, model: string, key: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/v1beta/models/${model}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Generate an image of the Eiffel tower' }] }] }),
  });
  return { status: res.status, body: await res.json() };
}

function sameShape(name: string, got: { status: number; body: unknown }): void {
  const r = recorded(name);
  assert.equal(got.status, r.status, name);
  assert.deepEqual([...shape(got.body)].sort(), [...shape(JSON.parse(r.body.toString('utf8')))].sort(), name);
}

describe('emulator answers have the recorded shapes', () => {
  test('400 API_KEY_INVALID, 404 unknown model, 200 image answer', async () => {
    await withEmulator({ apiKey: GOOD }, async (emu) => {
      sameShape('400-api-key-invalid', await generate(emu.url, 'gemini-2.5-flash-image', 'not-the-key'));
      sameShape('404-model-not-found', await generate(emu.url, 'gemini-exp-1206', GOOD));
      sameShape('200-generate-image-png', await generate(emu.url, 'gemini-2.5-flash-image', GOOD));
    });
  });

  test('models.list: each model has the fields of the recorded image models, thinking only where the registry says', async () => {
    await withEmulator({}, async (emu) => {
      const res = await fetch(`${emu.url}/v1beta/models?pageSize=1000`, { headers: { 'x-goog-api-key': GOOD } });
      const got = (await res.json()) as { models: { name: string; thinking?: boolean }[] };
      const recordedModels = (JSON.parse(recorded('200-models-list').body.toString('utf8')) as { models: { name: string; thinking?: boolean }[] }).models;
      const thinkingImage = recordedModels.find((m) => m.name === 'models/gemini-3-pro-image')!;
      const plainImage = recordedModels.find((m) => m.name === 'models/gemini-2.5-flash-image')!;
      const nano = got.models.find((m) => m.name === 'models/gemini-nano-banana-2.1');
      const old = got.models.find((m) => m.name === 'models/gemini-2.5-flash-image');
      assert.ok(nano && old);
      assert.deepEqual([...shape(nano)].sort(), [...shape(thinkingImage)].sort());
      assert.deepEqual([...shape(old)].sort(), [...shape(plainImage)].sort());
    });
  });

  for (const [fault, name] of [
    ['billing429', '429-prepayment-depleted'],
    ['bare429', '429-no-details'],
  ] as [FaultKind, string][]) {
    test(`seeded ${fault} answers like ${name}, message included`, async () => {
      await withEmulator({ faults: { [fault]: 1 } }, async (emu) => {
        const got = await generate(emu.url, 'gemini-2.5-flash-image', GOOD);
        sameShape(name, got);
        assert.deepEqual(got.body, JSON.parse(recorded(name).body.toString('utf8')));
      });
    });
  }

  test('seeded capacity503 carries ErrorInfo MODEL_CAPACITY_EXHAUSTED naming the model', async () => {
    await withEmulator({ faults: { capacity503: 1 } }, async (emu) => {
      const got = await generate(emu.url, 'gemini-2.5-flash-image', GOOD);
      const want = JSON.parse(recorded('503-model-capacity-exhausted').body.toString('utf8')) as { error: { details: object[] } };
      assert.equal(got.status, 503);
      const body = got.body as { error: { status: string; message: string; details: { reason?: string; metadata?: { model?: string } }[] } };
      assert.equal(body.error.status, 'UNAVAILABLE');
      assert.equal(body.error.message, 'No capacity available for model gemini-2.5-flash-image on the server');
      assert.deepEqual(body.error.details, [{ ...want.error.details[0], domain: 'googleapis.com', metadata: { model: 'gemini-2.5-flash-image' } }]);
    });
  });
});
