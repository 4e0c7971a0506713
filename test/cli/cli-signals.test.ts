// Ctrl-C and SIGTERM on a running CLI: once lets in-flight requests finish and be saved (exit 130 / 143),
// twice (or the grace period running out) cuts them, marks nothing done, and a rerun resumes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { eventually, manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'signal-test-key';
const env = { GEMINI_API_KEY: KEY };

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-sig-'));
  await writeFile(join(dir, 'six.txt'), Array.from({ length: 6 }, (_, i) => `signal prompt ${i}`).join('\n') + '\n');
});
after(async () => cleanup());

describe('imagebatch stop signals', () => {
  test('SIGINT once: in-flight requests finish and are saved, nothing new starts, exit 130, rerun resumes', async () => {
    // Slow answers (800 ms) so the signal lands while two requests are in flight.
    await withEmulator({ latency: { distribution: 'fixed', meanMs: 800 } }, async (emu) => {
      const args = ['generate', 'six.txt', '--base-url', emu.url, '--no-cache', '--concurrency', '2', '--no-adaptive', '--out', 'int-out'];
      const p = spawnCli(args, { cwd: dir, env });
      assert.ok(await eventually(() => emu.counters.inFlight === 2, 10_000), 'two requests in flight');
      p.child.kill('SIGINT');
      const r = await p.done;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /run the same command again to resume/);
      assert.equal(emu.counters.byRoute.generateContent, 2, 'nothing started after the signal');
      const saved = await manifestOf(join(dir, 'int-out'));
      assert.equal(saved.length, 2, 'the two in-flight answers were saved');
      assert.ok(saved.every((e) => e.status === 'succeeded'));

      const rerun = await runCli(args, { cwd: dir, env });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(emu.counters.byRoute.generateContent, 6, 'the rerun sent only the four missing');
      assert.equal((await manifestOf(join(dir, 'int-out'))).length, 6);
    });
  });

  test('SIGTERM twice: in-flight requests are cut, not marked done; exit 143', async () => {
    await withEmulator({ faults: { scripted: [{ match: 'signal', fault: 'hang', times: 100 }] } }, async (emu) => {
      const p = spawnCli(['generate', 'six.txt', '--base-url', emu.url, '--no-cache', '--concurrency', '3', '--out', 'term-out'], { cwd: dir, env });
      assert.ok(await eventually(() => emu.counters.inFlight === 3, 10_000), 'three requests in flight');
      p.child.kill('SIGTERM');
      assert.ok(await eventually(() => /starting no new requests/.test(p.output().stderr), 5000), 'the first signal is acknowledged');
      p.child.kill('SIGTERM');
      const r = await p.done;
      assert.equal(r.code, 143, r.stderr);
      assert.equal(r.signal, null, 'it exited by itself');
      assert.ok(await eventually(() => emu.counters.inFlight === 0, 2000), 'the hung requests were closed');
      assert.deepEqual(await manifestOf(join(dir, 'term-out')), [], 'cut jobs are not recorded');
    });
  });

  test('the grace period running out cuts the stragglers (--grace)', async () => {
    await withEmulator({ faults: { scripted: [{ match: 'signal prompt 0', fault: 'hang', times: 100 }] } }, async (emu) => {
      const p = spawnCli(['generate', 'six.txt', '--base-url', emu.url, '--no-cache', '--concurrency', '1', '--grace', '0.3', '--out', 'grace-out'], { cwd: dir, env });
      assert.ok(await eventually(() => emu.counters.inFlight === 1, 10_000));
      p.child.kill('SIGINT');
      const r = await p.done;
      assert.equal(r.code, 130, r.stderr);
      assert.equal(emu.counters.byRoute.generateContent, 1);
      assert.deepEqual(await manifestOf(join(dir, 'grace-out')), []);
    });
  });
});
