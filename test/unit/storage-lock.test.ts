// One run per output folder: a second live run is refused; a lock is taken over only when its owner is provably
// gone; release removes only the owner's own lock; many processes racing for one folder never both get it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../../src/errors.ts';
import { LOCK_FILE, lockFolder } from '../../src/storage/lock.ts';
import { OutputFolder } from '../../src/storage/output.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKER = join(ROOT, 'test', 'helpers', 'lock-worker.ts');
const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});
async function fresh(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), 'ib-lock-'));
  roots.push(r);
  return r;
}
const lockOf = async (dir: string) => JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number; token: string };
const refused = (e: unknown) => e instanceof StorageError && /another (imagebatch )?run/.test(e.message);

function worker(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
}
/** Resolves with everything the child printed once `line` appears. */
function untilLine(child: ChildProcess, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.split('\n').includes(line)) resolve(out);
    });
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before "${line}": ${out}`)));
  });
}
async function deadPid(): Promise<number> {
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => dead.on('exit', r));
  return dead.pid!;
}

test('a second open of a folder in use is refused with a StorageError naming the holder; close releases it', async () => {
  const dir = await fresh();
  const first = await OutputFolder.open(dir);
  await assert.rejects(OutputFolder.open(dir), refused);
  await first.close();
  await assert.rejects(stat(join(dir, LOCK_FILE)), /ENOENT/);
  const again = await OutputFolder.open(dir);
  await again.close();
});

test('two opens of one folder started together in one process: exactly one gets it', async () => {
  const dir = await fresh();
  const settled = await Promise.allSettled([OutputFolder.open(dir), OutputFolder.open(dir)]);
  assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 1);
  for (const s of settled) if (s.status === 'fulfilled') await s.value.close();
});

test('a lock held by another live run is refused; the temp files of that run are left alone', async () => {
  const dir = await fresh();
  const child = worker(['hold', dir]);
  try {
    await untilLine(child, 'locked');
    const temp = join(dir, '.0001-x.png.0123456789ab.tmp');
    await writeFile(temp, 'half an image of the other run');
    await assert.rejects(OutputFolder.open(dir), (e: unknown) => refused(e) && (e as Error).message.includes(`pid ${child.pid}`));
    assert.equal(await readFile(temp, 'utf8'), 'half an image of the other run');
  } finally {
    child.kill('SIGKILL');
  }
  // Killed: its lock is a leftover now and is taken over.
  await new Promise((r) => child.once('exit', r));
  const folder = await OutputFolder.open(dir);
  assert.equal((await lockOf(dir)).pid, process.pid);
  await folder.close();
});

test('a lock left by a process that died, or a damaged lock file, is taken over', async () => {
  const dir = await fresh();
  await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00Z', token: 'dead' }));
  const folder = await OutputFolder.open(dir);
  assert.equal((await lockOf(dir)).pid, process.pid);
  await folder.close();
  await writeFile(join(dir, LOCK_FILE), '{"pid":');
  const again = await OutputFolder.open(dir);
  await again.close();
});

test('a leftover lock whose pid now belongs to an unrelated live process is taken over', async () => {
  const dir = await fresh();
  const node = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    // Even a node process: the process behind the pid started at another time than the lock says (pid reused).
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: node.pid, host: hostname(), startedAt: '2026-01-01T00:00:00Z', token: 't', procStart: '1' }));
    const a = await OutputFolder.open(dir);
    await a.close();
    // A lock from before tokens existed, naming a live program that is not node.
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: other.pid, host: hostname(), startedAt: '2026-01-01T00:00:00Z' }));
    const b = await OutputFolder.open(dir);
    await b.close();
  } finally {
    node.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});

test('a lock from another host is trusted until it is older than 48 hours', async () => {
  const dir = await fresh();
  const now = Date.parse('2026-12-01T12:00:00Z');
  const clock = { now: () => now };
  await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere.example', startedAt: '2026-11-30T12:00:00Z', token: 'remote' }));
  await assert.rejects(lockFolder(dir, { clock }), (e: unknown) => refused(e) && /elsewhere\.example/.test((e as Error).message));
  await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere.example', startedAt: '2026-11-28T12:00:00Z', token: 'remote' }));
  const release = await lockFolder(dir, { clock });
  assert.equal((await lockOf(dir)).pid, process.pid);
  await release();
});

test('release removes the lock only while it still carries the owner token', async () => {
  const dir = await fresh();
  const release = await lockFolder(dir);
  const mine = await lockOf(dir);
  assert.match(mine.token, /^[0-9a-f]{32}$/);
  // Judged gone and taken over by another run meanwhile: our release must not delete that run's lock.
  const theirs = JSON.stringify({ pid: 999_999, host: 'elsewhere.example', startedAt: new Date().toISOString(), token: 'theirs' });
  await writeFile(join(dir, LOCK_FILE), theirs);
  await release();
  assert.equal(await readFile(join(dir, LOCK_FILE), 'utf8'), theirs);
});

test('many processes racing for the same folders, fresh or with a dead run\'s lock: exactly one wins each', async () => {
  const base = await fresh();
  const FOLDERS = 24;
  const PROCS = 6;
  const dirs: string[] = [];
  const dead = await deadPid();
  for (let i = 0; i < FOLDERS; i++) {
    const d = join(base, `f${i}`);
    await mkdir(d);
    // Every other folder starts with a crashed run's lock, so the takeover path races too.
    if (i % 2) await writeFile(join(d, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), startedAt: '2026-01-01T00:00:00Z', token: `dead${i}` }));
    dirs.push(d);
  }
  const go = join(base, 'go');
  const children = Array.from({ length: PROCS }, () => worker(['race', go, '40', ...dirs]));
  try {
    await Promise.all(children.map((c) => untilLine(c, 'ready')));
    const ends = children.map((c) => untilLine(c, 'end'));
    await writeFile(go, '');
    const outputs = await Promise.all(ends);
    const wins = new Array<number>(FOLDERS).fill(0);
    for (const out of outputs) {
      for (const line of out.split('\n')) {
        assert.doesNotMatch(line, /^error/);
        const m = /^won (\d+)$/.exec(line);
        if (m) wins[Number(m[1])]!++;
      }
    }
    assert.deepEqual(wins, new Array<number>(FOLDERS).fill(1), `winners per folder: ${wins.join(',')}`);
    // Every lock in place belongs to a racer, and no temp or aside file is left behind.
    const pids = new Set(children.map((c) => c.pid));
    for (const d of dirs) {
      assert.ok(pids.has((await lockOf(d)).pid));
      assert.deepEqual(await readdir(d), [LOCK_FILE]);
    }
  } finally {
    for (const c of children) c.stdin!.end();
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  }
});
