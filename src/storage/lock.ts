// One run per output folder at a time: two runs on one folder would both pay for every job, and the second to
// start would delete the first one's temp files.
//
// The lock file appears complete or not at all: its content (pid, host, process start time, start time, a random
// token) is written to a private temp file that is then hard-linked into place, and link() fails if the name exists.
// A lock is taken over only when its owner is provably gone: its pid is not alive; or the pid is alive but is
// another process (its start time, read from /proc, differs: the pid was reused); or it is from another host and
// older than STALE_REMOTE_MS. Takeovers happen one at a time under a second short-lived guard file, and release
// removes the lock only while it still carries the owner's token.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors.ts';
import { systemClock } from '../internal/clock.ts';
import type { Clock } from '../internal/clock.ts';

export const LOCK_FILE = '.imagebatch.lock';
const GUARD_FILE = '.imagebatch.lock.takeover';
/** A lock from another machine is trusted this long (a batch run may wait up to the 48 h batch expiry). */
export const STALE_REMOTE_MS = 48 * 60 * 60 * 1000;
/** A takeover guard lives for milliseconds; one older than this was left by a crash mid-takeover. */
const STALE_GUARD_MS = 10_000;

export interface LockInfo {
  pid: number;
  host: string;
  /** ISO 8601. */
  startedAt: string;
  /** Random, per lock: release and takeover act only on the lock that carries the token they read. */
  token: string;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22), where /proc exists. */
  procStart?: string;
}

export interface LockOptions {
  /** Source of the lock's start time and of the age of a remote lock. @default systemClock */
  clock?: Pick<Clock, 'now'>;
}

/** Folders locked by this process (root → token): a second run in the same process is refused too. */
const held = new Map<string, string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return true;
}

/** Field 22 of /proc/<pid>/stat (start time), or undefined without /proc. The name in field 2 may hold spaces. */
async function procStartOf(pid: number | 'self'): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

async function cmdlineOf(pid: number): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return undefined;
  }
}

function parseInfo(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo> | null;
    if (!v || !Number.isInteger(v.pid) || typeof v.host !== 'string') return undefined;
    return { pid: v.pid!, host: v.host, startedAt: String(v.startedAt), token: typeof v.token === 'string' ? v.token : '', procStart: typeof v.procStart === 'string' ? v.procStart : undefined };
  } catch {
    return undefined;
  }
}

/** The lock's content, 'gone' when there is no lock, or undefined when it is unreadable (damaged, or an old version's torn write). */
async function readInfo(path: string): Promise<LockInfo | 'gone' | undefined> {
  try {
    return parseInfo(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
}

/** Why the owner is provably gone, or undefined while it may still be running. */
async function goneBecause(info: LockInfo | undefined, root: string, nowMs: number): Promise<string | undefined> {
  if (!info) return 'the lock file is damaged';
  if (info.host !== hostname()) {
    const age = nowMs - Date.parse(info.startedAt);
    return age > STALE_REMOTE_MS ? `it is from ${info.host} and older than ${STALE_REMOTE_MS / 3_600_000} h` : undefined;
  }
  if (info.pid === process.pid) return held.get(root) === info.token ? undefined : 'this process does not hold it';
  if (!alive(info.pid)) return `process ${info.pid} is not running`;
  if (info.procStart !== undefined) {
    const now = await procStartOf(info.pid);
    if (now !== undefined && now !== info.procStart) return `pid ${info.pid} now belongs to another process`;
    return undefined;
  }
  // A lock written before tokens existed: the best we know is whether the pid is still some node process.
  const cmd = await cmdlineOf(info.pid);
  return cmd !== undefined && !cmd.includes('node') ? `pid ${info.pid} now belongs to another program` : undefined;
}

/** Creates `path` holding `content`, complete, or fails with EEXIST: a private temp file linked into place. */
async function createComplete(path: string, content: string, token: string): Promise<void> {
  // Not the `.<name>.<12 hex>.tmp` pattern of atomic.ts, so a lock holder's orphan sweep never removes it mid-race.
  const tmp = `${path}-${token}.pending`;
  await writeFile(tmp, content, { flag: 'wx' });
  try {
    await link(tmp, path);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Removes the lock that carried `stale.token` (or was unreadable), one takeover at a time; the caller then tries to
 * create its own lock again (and re-examines whatever lock it finds).
 */
async function takeOver(root: string, path: string, stale: LockInfo | undefined, options: LockOptions): Promise<void> {
  const guard = join(root, GUARD_FILE);
  const token = randomBytes(8).toString('hex');
  try {
    await createComplete(guard, JSON.stringify({ pid: process.pid, host: hostname() }), token);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Another process is taking over right now; a guard left by a crash mid-takeover expires.
    const st = await stat(guard).catch(() => undefined);
    if (st && (options.clock ?? systemClock).now() - st.mtimeMs > STALE_GUARD_MS) await unlink(guard).catch(() => {});
    return;
  }
  try {
    // Under the guard nobody else removes a lock, and the stale lock's owner is gone: if the lock in place is still
    // the one judged stale, it stays so until we move it. Another takeover may have finished before we got the
    // guard, though, and a live run's fresh lock may be in place now: then leave it alone.
    const now = await readInfo(path);
    const unchanged = now !== 'gone' && (now === undefined ? stale === undefined : now.token === stale?.token && now.pid === stale.pid);
    if (!unchanged) return;
    // Moved aside and checked once more (a guard broken as stale could let two takeovers overlap).
    const aside = `${path}-${token}.stale`;
    try {
      await rename(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const moved = await readInfo(aside);
    const same = moved !== 'gone' && (moved === undefined ? stale === undefined : moved.token === stale?.token && moved.pid === stale.pid);
    if (!same) {
      // A different lock than the one judged stale: put it back (the name is free: lock creation would have had to
      // win a race against our rename within microseconds; if it did, that newer lock stands and this one is dropped).
      await link(aside, path).catch(() => {});
    }
    await unlink(aside).catch(() => {});
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/** Takes the folder's lock or throws StorageError naming the run that holds it. Returns the release function. */
export async function lockFolder(root: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const path = join(root, LOCK_FILE);
  const clock = options.clock ?? systemClock;
  if (held.has(root)) throw new StorageError(root, `another run in this process is already writing to ${root}`);
  const token = randomBytes(16).toString('hex');
  // Reserved before the first await, so two opens of one folder in this process cannot both get past here.
  held.set(root, token);
  try {
    return await acquire(root, path, token, clock, options);
  } catch (e) {
    if (held.get(root) === token) held.delete(root);
    throw e;
  }
}

async function acquire(root: string, path: string, token: string, clock: Pick<Clock, 'now'>, options: LockOptions): Promise<() => Promise<void>> {
  const procStart = await procStartOf('self');
  const mine: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date(clock.now()).toISOString(), token, ...(procStart ? { procStart } : {}) };
  for (let tries = 0; tries < 50; tries++) {
    try {
      await createComplete(path, `${JSON.stringify(mine)}\n`, token);
      return () => release(root, path, token);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StorageError(root, `cannot lock the output folder: ${(e as Error).message}`, { cause: e });
    }
    let info: LockInfo | 'gone' | undefined;
    try {
      info = await readInfo(path);
    } catch (e) {
      throw new StorageError(root, `cannot read the folder's lock ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (info === 'gone') continue; // released between our link and our read: try again
    const why = await goneBecause(info, root, clock.now());
    if (why === undefined) {
      throw new StorageError(
        root,
        `another imagebatch run (pid ${info?.pid} on ${info?.host}, since ${info?.startedAt}) is writing to ${root}; ` +
          `wait for it, or delete ${path} if no run is active`,
      );
    }
    await takeOver(root, path, info, options);
    // Spread the retries of processes that lost the same race.
    await sleep(1 + Math.floor(Math.random() * 5 * Math.min(tries + 1, 8)));
  }
  throw new StorageError(root, `cannot lock the output folder ${root}: the lock keeps changing hands`);
}

/** Removes the lock only if it is still ours (a lock taken over after we were judged gone is not touched). */
async function release(root: string, path: string, token: string): Promise<void> {
  if (held.get(root) === token) held.delete(root);
  const info = await readInfo(path).catch(() => undefined);
  if (info === 'gone' || info?.token !== token) return;
  await unlink(path).catch(() => {});
}
