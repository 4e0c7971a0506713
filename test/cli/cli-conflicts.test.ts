// Loud conflicts: a flag that would be silently ignored is an error (exit 2, nothing sent) or a one-line warning;
// messages name the flags as typed; bare `imagebatch` prints help on stdout and exits 0.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { tempDir, withEmulator } from '../helpers/emu.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-conflicts-'));
  await writeFile(join(dir, 'two.txt'), 'a red kite\na blue kite\n');
});
after(async () => cleanup());

const KEY = { GEMINI_API_KEY: 'AIzaSyCONFLICTkey-abcdefghijklmnopqrstu' };

describe('loud conflicts', () => {
  test('errors: exit 2 with one line naming both flags, before anything is sent or created', async () => {
    await withEmulator({}, async (emu) => {
      for (const [args, message] of [
        [['--emulator', '--base-url', emu.url], /--emulator and --base-url both choose the server/],
        [['--base-url', emu.url, '--emulator-profile', 'demo'], /--emulator-profile only applies with --emulator/],
        [['--base-url', emu.url, '--fresh', '--retry-failed'], /--fresh forgets the failures that --retry-failed would re-run/],
        [['--base-url', emu.url, '--no-cache', '--cache-dir', 'c'], /--cache-dir names a cache that --no-cache turns off/],
      ] as const) {
        const r = await runCli(['generate', 'two.txt', '--out', 'never', ...args], { cwd: dir, env: KEY });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      const submit = await runCli(['batch', 'submit', 'two.txt', '--out', 'never', '--emulator', '--base-url', emu.url], { cwd: dir, env: KEY });
      assert.equal(submit.code, 2, submit.stderr);
      assert.match(submit.stderr, /--emulator and --base-url both choose the server/);
      assert.equal(emu.counters.requests, 0);
    });
    await assert.rejects(access(join(dir, 'never')));
  });

  test('warnings: one line each, and the run goes on', async () => {
    const r = await runCli(['generate', 'two.txt', '--emulator', '--out', 'warned', '--mode', 'stream', '--deadline', '24h', '--batch-threshold', '3', '--finish-with-stream'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('imagebatch: warning: '));
    assert.deepEqual(warnings.map((w) => w.split(' ')[2]), ['--batch-threshold', '--deadline', '--finish-with-stream']);
    const batch = await runCli(['generate', 'two.txt', '--emulator', '--out', 'warned-batch', '--mode', 'batch', '--rpm', '60', '--ordered'], { cwd: dir });
    assert.equal(batch.code, 0, batch.stderr);
    assert.match(batch.stderr, /imagebatch: warning: --rpm, --ordered: streaming-mode flag\(s\) that --mode batch ignores/);
    const dry = await runCli(['generate', 'two.txt', '--emulator', '--dry-run'], { cwd: dir });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /warning: --emulator is not started by --dry-run/);
  });

  test('messages name the flag the user typed, not the library option', async () => {
    const ratio = await runCli(['generate', 'two.txt', '--emulator', '--aspect-ratio', '7:7'], { cwd: dir });
    assert.equal(ratio.code, 2);
    assert.match(ratio.stderr, /--aspect-ratio: expected one of 1:1/);
    assert.doesNotMatch(ratio.stderr, /aspectRatio/);
    const size = await runCli(['generate', 'two.txt', '--emulator', '--image-size', '8K'], { cwd: dir });
    assert.match(size.stderr, /--image-size: expected one of/);
    await writeFile(join(dir, 'ref.jsonl'), JSON.stringify({ prompt: 'x', images: ['../elsewhere.png'] }));
    const outside = await runCli(['generate', 'ref.jsonl', '--emulator'], { cwd: dir });
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /--allow-outside-refs/);
  });

  test('bare `imagebatch` and `imagebatch batch`: help on stdout, exit 0', async () => {
    for (const args of [[], ['batch']]) {
      const r = await runCli(args, { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: imagebatch${args.length ? ' batch' : ''} \\[options\\] \\[command\\]`));
      assert.equal(r.stderr, '');
    }
  });
});
