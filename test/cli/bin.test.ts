// bin/imagebatch.js picks what to run: the compiled CLI in an installed package, the TypeScript source in a
// checkout. Checked on a copy of the real bin file next to stub entry points that say which one ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, REPO } from '../helpers/cli.ts';

const run = promisify(execFile);

async function packageCopy(withTsconfig: boolean, { deps = true, built = true } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'imagebatch-bin-'));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'dist/cli'), { recursive: true });
  await mkdir(join(dir, 'src/cli'), { recursive: true });
  await copyFile(BIN, join(dir, 'bin/imagebatch.js'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
  if (deps) await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  if (built) await writeFile(join(dir, 'dist/cli/main.js'), "export async function main(argv) { console.log('compiled', argv.join(' ')); return 0; }\n");
  await writeFile(join(dir, 'src/cli/main.ts'), "export async function main(argv: string[]): Promise<number> { console.log('source', argv.join(' ')); return 3; }\n");
  if (withTsconfig) await writeFile(join(dir, 'tsconfig.json'), '{}\n');
  return dir;
}

test('an installed package (no tsconfig.json) runs dist/, a checkout runs src/ through tsx', async () => {
  const installed = await packageCopy(false);
  const checkout = await packageCopy(true);
  try {
    const a = await run(process.execPath, [join(installed, 'bin/imagebatch.js'), 'generate', 'x.txt']);
    assert.equal(a.stdout.trim(), 'compiled generate x.txt');
    const b = await run(process.execPath, [join(checkout, 'bin/imagebatch.js'), '--version']).catch((e: { code: number; stdout: string }) => e);
    assert.equal(b.stdout.trim(), 'source --version');
    assert.equal((b as { code?: number }).code, 3, 'the exit code main returns is the process exit code');
  } finally {
    await rm(installed, { recursive: true, force: true });
    await rm(checkout, { recursive: true, force: true });
  }
});

test('a checkout without tsx runs dist/ when built, and otherwise says to run npm run build', async () => {
  const built = await packageCopy(true, { deps: false });
  const bare = await packageCopy(true, { deps: false, built: false });
  try {
    const a = await run(process.execPath, [join(built, 'bin/imagebatch.js'), 'report', 'out']);
    assert.equal(a.stdout.trim(), 'compiled report out');
    const b = await run(process.execPath, [join(bare, 'bin/imagebatch.js'), '--help']).catch((e: { code: number; stdout: string; stderr: string }) => e);
    assert.equal((b as { code?: number }).code, 2);
    assert.equal(b.stdout, '');
    assert.match(b.stderr, /dist\/\) is missing and tsx is not installed: run `npm run build`/);
    assert.doesNotMatch(b.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await rm(built, { recursive: true, force: true });
    await rm(bare, { recursive: true, force: true });
  }
});
