// `imagebatch batch ...` as a user runs it: the real CLI (bin/imagebatch.js) in a temp folder,
// against an emulator in its own process (`imagebatch emulator`) or in this one; exit codes 0 / 1 / 2 / 3.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.ts';
import { KEY, batchFolder, jsonLines } from './batch-folder.ts';
import type { CliProcess } from '../helpers/cli.ts';
import { imagesIn, manifestOf } from '../helpers/emu.ts';

const folder = batchFolder();
const { run } = folder;

describe('batch submit → status → wait → fetch against `imagebatch emulator` in another process', () => {
  let emulator: CliProcess;
  let url: string;
  before(async () => {
    emulator = spawnCli(['emulator', '--time-scale', '0.001'], { cwd: folder.dir, timeoutMs: 120_000 });
    for (let i = 0; i < 400 && !emulator.output().stdout.includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
    url = emulator.output().stdout.split('\n')[0]!.trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });
  after(async () => {
    emulator.child.kill('SIGTERM');
    await emulator.done;
  });

  test('the whole workflow, each step a separate process', async () => {
    const submit = await run(['batch', 'submit', 'twelve.txt', '--out', 'out', '--base-url', url, '--inline-max', '0']);
    assert.equal(submit.code, 0, submit.stderr);
    assert.match(submit.stderr, /submitted batches\/[a-z0-9]+: 12 request\(s\), file input/);
    assert.match(submit.stderr, /Next: imagebatch batch wait --out out/);
    await access(join(folder.dir, 'out', 'batch-state.json'));

    // No --base-url from here on: the folder remembers where its batches live.
    const status = await run(['batch', 'status', '--out', 'out', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const [entry] = jsonLines(status.stdout);
    assert.equal(entry?.type, 'batch_status');
    assert.equal(entry?.requests, 12);
    assert.match(String(entry?.name), /^batches\//);

    const wait = await run(['batch', 'wait', '--out', 'out', '--poll', '0.01']);
    assert.equal(wait.code, 0, wait.stderr);
    assert.match(wait.stderr, /SUCCEEDED: 12 result\(s\) saved/);
    assert.match(wait.stderr, /done: 12\/12 succeeded/);
    assert.equal((await imagesIn(join(folder.dir, 'out'))).length, 12);
    assert.ok((await manifestOf(join(folder.dir, 'out'))).every((e) => e.from === 'batch'));

    const fetched = await run(['batch', 'fetch', '--out', 'out', '--json']);
    assert.equal(fetched.code, 0, fetched.stderr);
    const done = jsonLines(fetched.stdout).at(-1) as { type: string; summary: { succeeded: number } };
    assert.equal(done.type, 'done');
    assert.equal(done.summary.succeeded, 12);
    assert.equal((await manifestOf(join(folder.dir, 'out'))).length, 12, 'a second fetch writes nothing twice');

    const text = await run(['batch', 'status', '--out', 'out']);
    assert.match(text.stdout, /SUCCEEDED\s+12\/12 answered\s+file\s+age \S+\s+results saved/);
    const list = await run(['batch', 'list', '--base-url', url, '--json']);
    assert.equal(jsonLines(list.stdout).length, 1);
    const cancel = await run(['batch', 'cancel', '--out', 'out']);
    assert.equal(cancel.code, 0);
    assert.match(cancel.stdout, /no running batch to cancel/);
    for (const r of [submit, status, wait, fetched, text, list]) assert.ok(!(r.stdout + r.stderr).includes(KEY), 'the key leaked');
  });
});
