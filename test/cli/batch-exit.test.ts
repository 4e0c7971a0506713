// Exit codes of `imagebatch batch ...` (1 / 2 / 3), the offline `--emulator` run and `generate --mode`: the real CLI
// (bin/imagebatch.js) in a temp folder, against an emulator in this process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY, batchFolder, jsonLines } from './batch-folder.ts';
import { imagesIn, manifestOf, withEmulator } from '../helpers/emu.ts';

const folder = batchFolder();
const { run } = folder;

describe('batch exit codes', () => {
  test('1: some lines failed (emulator in this process with per-line errors)', async () => {
    await withEmulator({ timeScale: 0.001, batch: { lineErrorEvery: 4 } }, async (emu) => {
      const r = await run(['batch', 'submit', 'twelve.txt', '--out', 'some-failed', '--base-url', emu.url, '--wait', '--poll', '0.01', '--json']);
      assert.equal(r.code, 1, r.stderr);
      const events = jsonLines(r.stdout);
      assert.equal(events.filter((e) => e.type === 'failed').length, 3);
      const done = events.at(-1) as { type: string; summary: { failed: number; byReason: object } };
      assert.deepEqual([done.type, done.summary.failed, done.summary.byReason], ['done', 3, { server: 3 }]);
    });
  });

  test('2: usage and input problems, nothing sent', async () => {
    const noBatches = await run(['batch', 'wait', '--out', 'never-used']);
    assert.equal(noBatches.code, 2);
    assert.match(noBatches.stderr, /no batch jobs are recorded in never-used/);
    const missing = await run(['batch', 'submit', 'missing.txt', '--out', 'x', '--base-url', 'http://127.0.0.1:9']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing\.txt:0: file not found/);
    const noKey = await run(['batch', 'status', '--out', 'x'], {});
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /no API key/);
    const badDeadline = await run(['batch', 'submit', 'twelve.txt', '--deadline', 'soon']);
    assert.equal(badDeadline.code, 2);
    assert.match(badDeadline.stderr, /expected a duration such as 24h/);
  });

  test('3: the key is refused, so the run stops', async () => {
    await withEmulator({ timeScale: 0.001, apiKey: 'AIzaSyTHEonlyGOODkey-0123456789abcdefgh' }, async (emu) => {
      const r = await run(['batch', 'submit', 'twelve.txt', '--out', 'bad-key', '--base-url', emu.url]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /API key not valid/);
      assert.ok(!r.stderr.includes(KEY));
      assert.equal(emu.counters.batchesCreated, 0);
    });
  });
});

describe('offline and generate --mode', () => {
  test('batch submit --emulator runs the whole workflow in one process', async () => {
    const r = await run(['batch', 'submit', 'twelve.txt', '--out', 'offline', '--emulator'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /built in: it stops with this command/);
    assert.equal((await imagesIn(join(folder.dir, 'offline'))).length, 12);
    await access(join(folder.dir, 'offline', 'index.html'));
  });

  test('generate --mode auto takes the Batch API above the threshold with a deadline, streams otherwise', async () => {
    const batch = await run(['generate', 'twelve.txt', '--emulator', '--no-cache', '--out', 'auto-batch', '--batch-threshold', '10', '--deadline', '24h'], {});
    assert.equal(batch.code, 0, batch.stderr);
    assert.match(batch.stdout + batch.stderr, /mode: batch \(12 jobs ≥ 10 and a 24h deadline/);
    assert.ok((await manifestOf(join(folder.dir, 'auto-batch'))).every((e) => e.from === 'batch'));
    const summary = JSON.parse(await readFile(join(folder.dir, 'auto-batch', 'summary.json'), 'utf8')) as { succeeded: number; total: number };
    assert.deepEqual([summary.succeeded, summary.total], [12, 12]);

    const stream = await run(['generate', 'twelve.txt', '--emulator', '--no-cache', '--out', 'auto-stream', '--batch-threshold', '10'], {});
    assert.equal(stream.code, 0, stream.stderr);
    assert.doesNotMatch(stream.stdout + stream.stderr, /mode: batch/);
    assert.ok((await manifestOf(join(folder.dir, 'auto-stream'))).every((e) => e.from === 'api'));
  });

  test('--max-cost: generate --mode auto picking batch and batch submit refuse an estimate over the cap (exit 2, nothing sent)', async () => {
    await withEmulator({ timeScale: 0.001 }, async (emu) => {
      const auto = await run(['generate', 'twelve.txt', '--base-url', emu.url, '--no-cache', '--out', 'auto-cap', '--batch-threshold', '10', '--deadline', '24h', '--max-cost', '0.01']);
      assert.equal(auto.code, 2, auto.stderr);
      assert.match(auto.stderr, /mode: batch/);
      assert.match(auto.stderr, /the batch of 12 request\(s\) is estimated at \$0\.\d{4} \(batch prices\), over --max-cost \$0\.0100; nothing was sent/);
      const submit = await run(['batch', 'submit', 'twelve.txt', '--base-url', emu.url, '--out', 'submit-cap', '--max-cost', '0.01']);
      assert.equal(submit.code, 2, submit.stderr);
      assert.match(submit.stderr, /estimated at \$0\.\d{4} \(batch prices\)/);
      assert.equal(emu.counters.batchesCreated, 0);
      assert.equal(emu.counters.uploads, 0);
    });
  });
});
