import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/internal/clock.ts';
import { startEmulator, demoProfile } from '../../src/emulator/index.ts';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.ts';
import type { ErrorBody, GenerateContentResponse } from '../../src/gemini/wire.ts';

const MODEL = 'gemini-2.5-flash-image';

function generate(emu: Emulator, prompt: string, signal?: AbortSignal, method = 'generateContent'): Promise<Response> {
  return fetch(`${emu.url}/v1beta/models/${MODEL}:${method}`, {
    method: 'POST',
    headers: { 'x-goog-api-key': 'k' },
    body: JSON.stringify({ contents: [{ parts: [{ text: prompt }] }] }),
    signal,
  });
}

async function withEmu(opts: EmulatorOptions, fn: (emu: Emulator) => Promise<void>): Promise<void> {
  const emu = await startEmulator({ existingUser: true, ...opts });
  try {
    await fn(emu);
  } finally {
    await emu.close();
  }
}

/** A compact label for what one request got. */
async function outcome(emu: Emulator, prompt: string): Promise<string> {
  let res: Response;
  try {
    res = await generate(emu, prompt);
  } catch {
    return 'network';
  }
  let text: string;
  try {
    text = await res.text();
  } catch {
    return 'reset';
  }
  if (res.status !== 200) return String(res.status);
  let r: GenerateContentResponse;
  try {
    r = JSON.parse(text) as GenerateContentResponse;
  } catch {
    return 'truncated';
  }
  if (r.promptFeedback?.blockReason) return `blocked:${r.promptFeedback.blockReason}`;
  const c = r.candidates?.[0];
  if (c?.finishReason !== 'STOP') return `finish:${c?.finishReason}`;
  return c.content?.parts?.some((p) => p.inlineData) ? 'image' : 'text';
}

describe('emulator faults', () => {
  test('a scripted fault fires exactly `times` times, only for matching prompts', () =>
    withEmu({ faults: { scripted: [{ match: 'cat', fault: 'textOnly', times: 2 }] } }, async (emu) => {
      assert.equal(await outcome(emu, 'a dog'), 'image');
      assert.equal(await outcome(emu, 'a cat on a mat'), 'text');
      assert.equal(await outcome(emu, 'another cat'), 'text');
      assert.equal(await outcome(emu, 'a third cat'), 'image');
      assert.deepEqual(emu.counters.faults, { textOnly: 2 });
    }));

  test('demoProfile: one text-only answer for the cat prompt, then images', () =>
    withEmu({ ...demoProfile(), timeScale: 0.001 }, async (emu) => {
      const cat = 'A playful cat tangled in a ball of red yarn on a cozy rug';
      assert.equal(await outcome(emu, cat), 'text');
      assert.equal(await outcome(emu, cat), 'image');
      assert.equal(emu.requestsForPrompt(cat), 2);
    }));

  test('seeded random faults are reproducible, and the seed matters', async () => {
    const faults = { http500: 0.2, http503: 0.2, textOnly: 0.1, imageSafety: 0.1, promptBlock: 0.1 };
    const run = async (seed: number) => {
      const seen: string[] = [];
      await withEmu({ seed, faults }, async (emu) => {
        for (let i = 0; i < 24; i++) seen.push(await outcome(emu, `prompt ${i}`));
      });
      return seen;
    };
    const a = await run(42);
    assert.deepEqual(await run(42), a);
    assert.notDeepEqual(await run(43), a);
    for (const kind of ['500', '503', 'image']) assert.ok(a.includes(kind), `${kind} in ${a.join(',')}`);
  });

  test('imageSafety and promptBlock answer 200 with Google shapes', () =>
    withEmu({ faults: { scripted: [{ match: 'unsafe', fault: 'imageSafety' }, { match: 'blocked', fault: 'promptBlock' }] } }, async (emu) => {
      const safety = (await (await generate(emu, 'unsafe')).json()) as GenerateContentResponse;
      const c = safety.candidates?.[0];
      assert.deepEqual(c?.content, { role: 'model' });
      assert.equal(c?.finishReason, 'IMAGE_SAFETY');
      assert.match(c?.finishMessage ?? '', /^Unable to show the generated image/);
      assert.equal(c?.index, 0);
      const blocked = (await (await generate(emu, 'blocked')).json()) as GenerateContentResponse;
      assert.equal(blocked.candidates, undefined);
      assert.deepEqual(blocked.promptFeedback, { blockReason: 'PROHIBITED_CONTENT' });
      assert.ok(blocked.usageMetadata?.promptTokenCount);
    }));

  test('http faults carry Google texts; reset and truncated break the body', () =>
    withEmu(
      {
        faults: {
          scripted: [
            { match: 'e500', fault: 'http500' },
            { match: 'e504', fault: 'http504' },
            { match: 'e400', fault: 'http400' },
            { match: 'reset', fault: 'reset' },
            { match: 'cut', fault: 'truncated' },
          ],
        },
      },
      async (emu) => {
        const e500 = (await (await generate(emu, 'e500')).json()) as ErrorBody;
        assert.deepEqual([e500.error.code, e500.error.status], [500, 'INTERNAL']);
        assert.match(e500.error.message, /^An internal error has occurred/);
        const e504 = (await (await generate(emu, 'e504')).json()) as ErrorBody;
        assert.deepEqual([e504.error.code, e504.error.status], [504, 'DEADLINE_EXCEEDED']);
        assert.equal((await generate(emu, 'e400')).status, 400);
        assert.equal(await outcome(emu, 'reset'), 'reset');
        assert.equal(await outcome(emu, 'cut'), 'truncated');
        const s = emu.counters.byStatus;
        assert.equal(s.reset, 1);
        assert.equal(s['500'], 1);
        // The server is still healthy afterwards.
        assert.equal(await outcome(emu, 'fine'), 'image');
      },
    ));

  test('streaming faults: reset mid-stream and a truncated last event', () =>
    withEmu({ faults: { scripted: [{ match: 'reset', fault: 'reset' }, { match: 'cut', fault: 'truncated' }] } }, async (emu) => {
      const r1 = await generate(emu, 'reset', undefined, 'streamGenerateContent?alt=sse');
      await assert.rejects(r1.text());
      const r2 = await generate(emu, 'cut', undefined, 'streamGenerateContent?alt=sse');
      const raw = await r2.text();
      assert.ok(raw.startsWith('data: '));
      assert.ok(!raw.endsWith('\r\n\r\n'), 'the last event is cut');
    }));

  test('hang: the request is accepted and never answered until the client gives up', () =>
    withEmu({ faults: { hang: 1 } }, async (emu) => {
      const ctl = new AbortController();
      const pending = generate(emu, 'anything', ctl.signal);
      while (emu.counters.inFlight < 1) await new Promise((r) => setTimeout(r, 5));
      ctl.abort();
      await assert.rejects(pending, { name: 'AbortError' });
      while (emu.counters.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(emu.counters.faults.hang, 1);
    }));

  test('outage window: every request inside it gets the outage status', async () => {
    const clock = new FakeClock(0);
    await withEmu({ clock, faults: { outage: { startMs: 1000, durationMs: 500, status: 503 } } }, async (emu) => {
      assert.equal(await outcome(emu, 'a'), 'image');
      await clock.advance(1000);
      assert.equal(await outcome(emu, 'b'), '503');
      await clock.advance(499);
      assert.equal(await outcome(emu, 'c'), '503');
      await clock.advance(1);
      assert.equal(await outcome(emu, 'd'), 'image');
      emu.setFaults({ outage: { startMs: 0, durationMs: 10_000, status: 500 } });
      assert.equal(await outcome(emu, 'e'), '500');
      emu.setFaults({ outage: undefined });
      assert.equal(await outcome(emu, 'f'), 'image');
      assert.equal(emu.counters.faults.outage, 3);
    });
  });

  test('counters: totals, routes, statuses, prompts, images, reset', () =>
    withEmu({}, async (emu) => {
      await outcome(emu, 'one');
      await outcome(emu, 'one');
      await outcome(emu, 'two');
      await fetch(`${emu.url}/v1beta/nowhere`, { headers: { 'x-goog-api-key': 'k' } });
      const c = emu.counters;
      assert.equal(c.requests, 4);
      assert.deepEqual(c.byRoute, { generateContent: 3, unknown: 1 });
      assert.deepEqual(c.byStatus, { '200': 3, '404': 1 });
      assert.equal(c.imagesGenerated, 3);
      assert.equal(c.requestsByPrompt.get('one'), 2);
      assert.equal(emu.requestsForPrompt('two'), 1);
      assert.equal(c.maxInFlight, 1);
      c.requestsByPrompt.set('one', 99);
      assert.equal(emu.requestsForPrompt('one'), 2, 'counters is a copy');
      emu.resetCounters();
      assert.equal(emu.counters.requests, 0);
      assert.equal(emu.requestsForPrompt('one'), 0);
    }));
});
