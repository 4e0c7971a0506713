// The CLI leaves defaults to the library (src/defaults.ts): it passes only what the user set, shows the library's
// defaults in --help, and reads its version from package.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { DEFAULTS } from '../../src/defaults.ts';

const sub = (program: Command, ...path: string[]): Command =>
  path.reduce((c, name) => c.commands.find((x) => x.name() === name)!, program);

test('generate and batch submit set no default a library option would take over', () => {
  const program = buildProgram();
  for (const cmd of [sub(program, 'generate'), sub(program, 'batch', 'submit'), sub(program, 'batch', 'wait')]) {
    // CLI-only switches default to false; the output folder of batch commands names the folder the records live in.
    const withDefault = cmd.options.filter((o) => o.defaultValue !== undefined && o.defaultValue !== false);
    const allowed = new Set(['emulatorProfile', ...(cmd.name() === 'generate' ? [] : ['out'])]);
    const bad = withDefault.filter((o) => !allowed.has(o.attributeName())).map((o) => `${cmd.name()} ${o.flags} = ${String(o.defaultValue)}`);
    assert.deepEqual(bad, []);
  }
});

test('--help shows the library defaults; --version is package.json\'s', () => {
  const program = buildProgram();
  const help = sub(program, 'generate').helpInformation().replace(/\s+/g, ' ');
  for (const shown of [`(default: ${DEFAULTS.out})`, `(default: ${DEFAULTS.model})`, `(default: ${DEFAULTS.concurrency})`, `(default: ${DEFAULTS.timeoutMs / 1000})`]) {
    assert.ok(help.includes(shown), `generate --help lacks ${shown}`);
  }
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.equal(program.version(), pkg.version);
});
