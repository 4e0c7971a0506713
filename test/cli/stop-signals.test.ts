// Graceful stop with the real CLI as a child process: one SIGINT/SIGTERM lets in-flight work finish and be saved,
// a second one (or the end of --grace) aborts it at once; either way a plain re-run finishes the rest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { checkFolder, manifestLines, spawnCli, until } from './crash-harness.ts';

const CONCURRENCY = 4;
const PROMPTS = 8;

let root: string;
/** Answers take 2 s: long enough to signal while 4 are in flight, short enough to wait for them. */
let slow: Emulator;
/** Answers never come within a test: only an abort ends them. */
let stuck: Emulator;
/** For the resumes. */
let fast: Emulator;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-stop-'));
  slow = await startEmulator({ seed: 3, latency: { distribution: 'fixed', meanMs: 2000 } });
  stuck = await startEmulator({ seed: 4, latency: { distribution: 'fixed', meanMs: 60_000 } });
  fast = await startEmulator({ seed: 5, latency: { distribution: 'fixed', meanMs: 20 } });
});
after(async () => {
  await Promise.all([slow.close(), stuck.close(), fast.close()]);
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function setup(emu: Emulator, extra: string[] = []) {
  const dir = await mkdtemp(join(root, `s${n++}-`));
  const prompts = Array.from({ length: PROMPTS }, (_, i) => `stop test ${n} prompt ${i}: a paper boat on a pond`);
  const file = join(dir, 'prompts.txt');
  await writeFile(file, `${prompts.join('\n')}\n`);
  const out = join(dir, 'out');
  const args = (url: string) => ['generate', file, '--out', out, '--base-url', url, '--no-cache', '--concurrency', String(CONCURRENCY), ...extra];
  const requested = (e: Emulator) => prompts.filter((p) => e.requestsForPrompt(p) > 0);
  const run = spawnCli(args(emu.url));
  // Signal only once the server holds a full set of requests: then the client can start no other one before the
  // signal (the emulator, in this process, answers nothing while we check and send it).
  await Promise.race([
    until(() => emu.counters.inFlight >= CONCURRENCY, 30_000, 'requests in flight'),
    run.exited.then(() => assert.fail(`exited early: ${run.stderr}`)),
  ]);
  return { out, prompts, args, requested, run };
}

/** A plain re-run (on the fast emulator) finishes every job; returns how many requests it sent. */
async function resumeCompletes(s: Awaited<ReturnType<typeof setup>>): Promise<number> {
  const before = fast.counters.byRoute.generateContent ?? 0;
  const again = spawnCli(s.args(fast.url));
  assert.equal((await again.exited).code, 0, again.stderr);
  const lines = await manifestLines(s.out);
  assert.deepEqual(lines.filter((e) => e.status === 'succeeded').map((e) => e.index).sort((a, b) => a - b), s.prompts.map((_, i) => i));
  assert.equal(lines.length, PROMPTS, 'one line per job');
  const check = await checkFolder(s.out);
  assert.deepEqual(check.problems, []);
  assert.deepEqual(check.temps, []);
  return (fast.counters.byRoute.generateContent ?? 0) - before;
}

describe('graceful stop (CLI)', { timeout: 120_000 }, () => {
  test('SIGINT once: no new request, those in flight finish and are saved, exit 130, says how to resume', async () => {
    const s = await setup(slow);
    const inFlight = s.requested(slow);
    assert.ok(inFlight.length >= CONCURRENCY);
    s.run.child.kill('SIGINT');
    const ended = await s.run.exited;
    assert.equal(ended.code, 130, s.run.stderr);
    assert.match(s.run.stderr, /SIGINT: starting no new requests/);
    assert.match(s.run.stderr, /run the same command again to resume/);
    // Nothing started after the signal, and everything in flight was saved.
    assert.deepEqual(s.requested(slow), inFlight);
    const lines = await manifestLines(s.out);
    assert.deepEqual(lines.map((e) => e.prompt).sort(), [...inFlight].sort());
    assert.ok(lines.every((e) => e.status === 'succeeded' && e.files.length === 1));
    assert.deepEqual((await checkFolder(s.out)).problems, []);
    // The resume pays only for the rest.
    assert.equal(await resumeCompletes(s), PROMPTS - inFlight.length);
  });

  test('SIGTERM once: the same graceful stop, exit 143', async () => {
    const s = await setup(slow, ['--json']);
    const inFlight = s.requested(slow);
    s.run.child.kill('SIGTERM');
    const ended = await s.run.exited;
    assert.equal(ended.code, 143, s.run.stderr);
    assert.match(s.run.stderr, /SIGTERM: starting no new requests/);
    assert.deepEqual((await manifestLines(s.out)).map((e) => e.prompt).sort(), [...inFlight].sort());
    // --json keeps stdout machine-readable: every line is an event, the last one `done`.
    const events = s.run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; summary?: { stoppedBy?: string; total?: number } });
    assert.equal(events.at(-1)?.type, 'done');
    assert.match(events.at(-1)?.summary?.stoppedBy ?? '', /SIGTERM/);
    // The total is the whole input, not just the jobs read before the stop.
    assert.equal(events.at(-1)?.summary?.total, PROMPTS);
  });

  test('SIGINT twice: in-flight requests are aborted, the process exits at once, those jobs are not marked done', async () => {
    const s = await setup(stuck);
    s.run.child.kill('SIGINT');
    // A second signal sent before the first is handled could merge with it; wait for the first to be seen.
    await s.run.waitFor(/SIGINT: starting no new requests/);
    const t0 = performance.now();
    s.run.child.kill('SIGINT');
    const ended = await s.run.exited;
    const ms = performance.now() - t0;
    assert.equal(ended.code, 130, s.run.stderr);
    assert.ok(ms < 5000, `took ${Math.round(ms)} ms to exit after the second SIGINT`);
    assert.match(s.run.stderr, /again: aborting in-flight requests/);
    assert.equal((await manifestLines(s.out)).length, 0, 'aborted jobs must not be marked done (or failed)');
    await until(() => stuck.counters.inFlight === 0, 5000, 'the server to see the requests cut');
    assert.equal(await resumeCompletes(s), PROMPTS);
  });

  test('grace period over (--grace 0.5): in-flight requests are aborted, exit 130, nothing marked done', async () => {
    const s = await setup(stuck, ['--grace', '0.5']);
    const t0 = performance.now();
    s.run.child.kill('SIGINT');
    const ended = await s.run.exited;
    const ms = performance.now() - t0;
    assert.equal(ended.code, 130, s.run.stderr);
    assert.ok(ms >= 400, `exited after ${Math.round(ms)} ms, before the grace period was over`);
    assert.ok(ms < 5000, `took ${Math.round(ms)} ms to exit`);
    assert.match(s.run.stderr, /waiting up to 0\.5 s/);
    assert.equal((await manifestLines(s.out)).length, 0);
    assert.equal(await resumeCompletes(s), PROMPTS);
  });
});
