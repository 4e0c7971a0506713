// A hard stop (second Ctrl-C, grace period over) cuts requests still in flight, but an answer already received is a
// paid-for image: it must be saved, even when it was waiting behind a slow disk when the stop came.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { runToDisk } from '../../src/run-disk.ts';
import { checkFolder, manifestLines } from '../cli/crash-harness.ts';

let root: string;
let emu: Emulator;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-dstop-'));
  emu = await startEmulator({ seed: 31, latency: { distribution: 'fixed', meanMs: 10 } });
});
after(async () => {
  await emu.close();
  await rm(root, { recursive: true, force: true });
});

/** Blocks the event loop, like a save stuck on a slow disk would hold the consumer. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a hard stop still saves every answer already received; only requests in flight are cut', { timeout: 30_000 }, async () => {
  const prompts = Array.from({ length: 60 }, (_, i) => `hard stop ${i}: a tin robot, watercolour`);
  const out = join(root, 'out');
  // Answers as the client received them, whole bodies read.
  const answered: string[] = [];
  const spy: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (res.status !== 200 || typeof init?.body !== 'string') return res;
    const body = await res.arrayBuffer();
    const sent = JSON.parse(init.body) as { contents: { parts: { text?: string }[] }[] };
    answered.push(sent.contents[0]?.parts[0]?.text ?? '');
    return new Response(body, { status: res.status, headers: res.headers });
  };
  const stop = new AbortController();
  let saved = 0;
  let receivedAtStop: Set<string> | undefined;
  let savedAtStop = 0;
  const summary = await runToDisk(prompts, {
    out,
    apiKey: 'test',
    baseUrl: emu.url,
    cacheDir: false,
    concurrency: 4,
    adaptive: false,
    gallery: false,
    env: {},
    fetch: spy,
    signal: stop.signal,
    onResult: () => {
      saved++;
      // A consumer slower than the answers: they queue up behind it.
      busy(25);
      if (saved === 4) {
        setTimeout(() => {
          // Taken a moment before the stop, so every answer in it has had time to be parsed and settled.
          receivedAtStop = new Set(answered);
          savedAtStop = saved;
          setTimeout(() => stop.abort(new Error('second SIGINT')), 20);
        }, 0);
      }
    },
  });
  assert.ok(receivedAtStop, 'the stop never came');
  assert.equal(summary.stoppedBy, 'second SIGINT');
  // The scenario must really have answers waiting behind the consumer, or it proves nothing.
  assert.ok(receivedAtStop.size - savedAtStop >= 2, `only ${receivedAtStop.size - savedAtStop} answers were waiting`);
  const lines = await manifestLines(out);
  const savedPrompts = new Set(lines.map((e) => e.prompt));
  assert.deepEqual(
    [...receivedAtStop].filter((p) => !savedPrompts.has(p)),
    [],
    'answers received before the stop were dropped',
  );
  assert.ok(lines.length < prompts.length, 'the stop came too late to stop anything');
  assert.ok(lines.every((e) => e.status === 'succeeded'), 'a cut request must not be recorded as failed');
  assert.deepEqual((await checkFolder(out)).problems, []);
});
