// Input that can be read once: a named FIFO, process substitution and stdin are spooled, so validation and the run
// read the same bytes; a signal while waiting for the writer ends the wait and leaves no temp file.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, cleanEnv, runCli, spawnCli } from '../helpers/cli.ts';
import { imagesIn, tempDir } from '../helpers/emu.ts';
import { ttyHint } from '../../src/cli/input-flags.ts';

let dir: string;
let tmp: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-pipes-'));
  tmp = join(dir, 'tmp');
  await mkdir(tmp);
});
after(async () => cleanup());

const leftovers = async () => (await readdir(tmp)).filter((n) => n.startsWith('imagebatch-'));
const fifo = (name: string) => {
  const p = join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
};

describe('pipes, FIFOs, stdin', () => {
  test('a named FIFO is read once into a spool: validation and the run see the same prompts', async () => {
    const p = fifo('prompts.fifo');
    const cli = spawnCli(['generate', p, '--emulator', '--no-cache', '--out', 'fifo-out'], { cwd: dir, env: { TMPDIR: tmp } });
    await writeFile(p, 'a fox in a FIFO\na heron in a FIFO\n'); // blocks until the CLI opens it
    const r = await cli.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await imagesIn(join(dir, 'fifo-out'))).length, 2);
    assert.deepEqual(await leftovers(), []);
  });

  test('process substitution <(…) works the same way', async () => {
    const cmd = `"${process.execPath}" "${BIN}" generate <(printf 'one\\ntwo\\nthree\\n') --emulator --no-cache --out subst-out`;
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn('bash', ['-c', cmd], { cwd: dir, env: cleanEnv(dir, { TMPDIR: tmp }) });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await imagesIn(join(dir, 'subst-out'))).length, 3);
    assert.deepEqual(await leftovers(), []);
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    test(`${sig} ends the wait for a FIFO's writer and for stdin, with no temp file left behind`, async () => {
      const p = fifo(`never-${sig}.fifo`);
      const onFifo = spawnCli(['generate', p, '--emulator', '--out', 'never'], { cwd: dir, env: { TMPDIR: tmp } });
      // stdin held open: the CLI waits for the end of input.
      const onStdin = spawn(process.execPath, [BIN, 'generate', '-', '--emulator', '--out', 'never'], { cwd: dir, env: cleanEnv(dir, { TMPDIR: tmp }), stdio: ['pipe', 'pipe', 'pipe'] });
      onStdin.stdin.write('a prompt typed but never ended\n');
      const stdinDone = new Promise<{ code: number | null; signal: string | null }>((resolve) => onStdin.on('close', (code, signal) => resolve({ code, signal })));
      await new Promise((r) => setTimeout(r, 1500)); // both are waiting now
      const started = Date.now();
      onFifo.child.kill(sig);
      onStdin.kill(sig);
      const [a, b] = await Promise.all([onFifo.done, stdinDone]);
      assert.ok(Date.now() - started < 3000, 'ended promptly');
      const code = sig === 'SIGTERM' ? 143 : 130;
      for (const r of [a, b]) assert.ok(r.signal === sig || r.code === code, JSON.stringify(r));
      assert.deepEqual(await leftovers(), []);
      onStdin.stdin.destroy();
    });
  }

  test('`generate -` on a terminal says how to end the input; not when piped', () => {
    const lines: string[] = [];
    ttyHint((l) => lines.push(l), { isTTY: true });
    ttyHint((l) => lines.push(l), { isTTY: false });
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /end with Ctrl-D/);
  });

  test('stdin still works and its spool is removed', async () => {
    const r = await runCli(['generate', '-', '--emulator', '--no-cache', '--out', 'stdin-out'], { cwd: dir, env: { TMPDIR: tmp }, stdin: 'x\ny\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await leftovers(), []);
  });
});
