// A closed stdout (`imagebatch --help | head -1`, `imagebatch generate … | head`) ends the output quietly, as
// conventional CLIs do: no unhandled EPIPE, exit 0 for help, and a run goes on saving to disk.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.ts';
import type { CliOptions, CliResult } from '../helpers/cli.ts';
import { tempDir, withEmulator } from '../helpers/emu.ts';
import { manifestLines } from './crash-harness.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-epipe-'));
  await writeFile(join(dir, 'six.txt'), Array.from({ length: 6 }, (_, i) => `closed pipe ${i}: a paper boat`).join('\n'));
});
after(async () => cleanup());

/** Runs the CLI with its stdout a pipe whose reading end is closed before the child can write (head, gone). */
function withClosedStdout(args: string[], options: CliOptions): Promise<CliResult> {
  const p = spawnCli(args, options);
  p.child.stdout.destroy();
  return p.done;
}

describe('a closed stdout', () => {
  test('--help and --version exit 0 without an EPIPE', async () => {
    for (const args of [['--help'], ['generate', '--help'], ['--version']]) {
      const r = await withClosedStdout(args, { cwd: dir });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|Error/, args.join(' '));
    }
  });

  for (const mode of [[], ['--json']]) {
    test(`a run ${mode.join(' ') || 'with plain lines'} keeps saving every image and exits as if it had printed`, async () => {
      await withEmulator({}, async (emu) => {
        const out = `out${mode.join('')}`;
        const r = await withClosedStdout(['generate', 'six.txt', '--base-url', emu.url, '--no-cache', '--concurrency', '2', '--out', out, ...mode], {
          cwd: dir,
          env: { GEMINI_API_KEY: 'test-key' },
        });
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
        const lines = await manifestLines(join(dir, out));
        assert.equal(lines.length, 6);
        assert.ok(lines.every((l) => l.status === 'succeeded'));
        const images = (await readdir(join(dir, out))).filter((f) => f.endsWith('.png'));
        assert.equal(images.length, 6);
      });
    });
  }
});
