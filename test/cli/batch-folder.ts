// Shared by the `imagebatch batch` CLI tests: one temp folder per test file holding twelve.txt (12 prompts), and the
// real CLI spawned there with a key that must never show up in any output.
import { before, after } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/emu.ts';

export const KEY = 'AIzaSyBATCHcliKEY-abcdefghijklmnopqrst';

export const jsonLines = (s: string) => s.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

export interface BatchFolder {
  /** Valid once the file's `before` hook has run. */
  readonly dir: string;
  run(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
}

/** Registers before/after hooks that make and remove the folder. */
export function batchFolder(): BatchFolder {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  before(async () => {
    ({ dir, cleanup } = await tempDir('ib-batch-cli-'));
    await writeFile(join(dir, 'twelve.txt'), Array.from({ length: 12 }, (_, i) => `a paper boat number ${i + 1}`).join('\n'));
  });
  after(async () => cleanup());
  return {
    get dir() {
      return dir;
    },
    run: (args, env = { GEMINI_API_KEY: KEY }) => spawnCli(args, { cwd: dir, env, timeoutMs: 20_000 }).done,
  };
}
