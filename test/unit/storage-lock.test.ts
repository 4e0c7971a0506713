// One run per output folder: a second live run is refused; a lock left by a dead process is taken over.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../../src/errors.ts';
import { LOCK_FILE } from '../../src/storage/lock.ts';
import { OutputFolder } from '../../src/storage/output.ts';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});
async function fresh(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), 'ib-lock-'));
  roots.push(r);
  return r;
}

test('a second open of a folder in use is refused with a StorageError naming the holder; close releases it', async () => {
  const dir = await fresh();
  const first = await OutputFolder.open(dir);
  await assert.rejects(OutputFolder.open(dir), (e: unknown) => e instanceof StorageError && /another run/.test(e.message));
  await first.close();
  await assert.rejects(stat(join(dir, LOCK_FILE)), /ENOENT/);
  const again = await OutputFolder.open(dir);
  await again.close();
});

test('a lock held by another live process is refused; the temp files of that run are left alone', async () => {
  const dir = await fresh();
  // A live node process that is not us holds the lock.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
  try {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: child.pid, host: hostname(), startedAt: new Date().toISOString() }));
    const temp = join(dir, '.0001-x.png.0123456789ab.tmp');
    await writeFile(temp, 'half an image of the other run');
    await assert.rejects(OutputFolder.open(dir), (e: unknown) => e instanceof StorageError && e.message.includes(`pid ${child.pid}`));
    assert.equal(await readFile(temp, 'utf8'), 'half an image of the other run');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a lock left by a process that died (or a torn lock file) is taken over', async () => {
  const dir = await fresh();
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => dead.on('exit', r));
  await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: dead.pid, host: hostname(), startedAt: '2026-01-01T00:00:00Z' }));
  const folder = await OutputFolder.open(dir);
  const info = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number };
  assert.equal(info.pid, process.pid);
  await folder.close();
  await writeFile(join(dir, LOCK_FILE), '{"pid":');
  const again = await OutputFolder.open(dir);
  await again.close();
});
