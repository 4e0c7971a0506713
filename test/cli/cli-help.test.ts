// `imagebatch --help`, `generate --help` and `emulator --help` (child processes): every flag the command declares
// and every flag the README promises is listed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/main.ts';
import { REPO, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/emu.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-help-'));
});
after(async () => cleanup());

describe('imagebatch help', () => {
  test('`imagebatch --help` lists the commands and exits 0', async () => {
    const r = await runCli(['--help'], { cwd: dir });
    assert.equal(r.code, 0);
    for (const cmd of ['generate', 'report', 'emulator']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), cmd);
    for (const flag of ['--version', '--help']) assert.ok(r.stdout.includes(flag), flag);
    assert.match(r.stdout, /Exit codes/);
  });

  test('`imagebatch generate --help` lists every flag of the command and every flag the README promises', async () => {
    const r = await runCli(['generate', '--help'], { cwd: dir });
    assert.equal(r.code, 0);
    const generate = buildProgram().commands.find((c) => c.name() === 'generate');
    assert.ok(generate);
    const declared = generate.options.map((o) => o.long).filter((l): l is string => l !== undefined);
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const section = /Main `generate` options:([\s\S]*?)\n\n/.exec(readme)?.[1] ?? '';
    const promised = [...section.matchAll(/`(--[a-z-]+)`/g)].map((m) => m[1]!);
    assert.ok(promised.length >= 20, `found the README's flag list (${promised.length})`);
    for (const flag of new Set([...declared, ...promised])) assert.match(r.stdout, new RegExp(`${flag}\\b`), `${flag} in generate --help`);
  });

  test('`imagebatch emulator --help` documents its options', async () => {
    const r = await runCli(['emulator', '--help'], { cwd: dir });
    assert.equal(r.code, 0);
    for (const flag of ['--port', '--api-key', '--seed', '--time-scale', '--rpm', '--fault-rate']) assert.ok(r.stdout.includes(flag), flag);
  });
});
