// One run per output folder at a time: two runs on one folder would both pay for every job, and the second to
// start would delete the first one's temp files. A lock file holds the owner's pid; a lock left by a crashed run
// (its process gone) is taken over, so a SIGKILL never blocks the resume.
import { hostname } from 'node:os';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors.ts';

export const LOCK_FILE = '.imagebatch.lock';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** Folders locked by this process: a second run in the same process is refused too. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return true;
}

async function looksLikeNode(pid: number): Promise<boolean> {
  // Pids are reused: on Linux, make sure the live pid is still a node process before calling the lock held.
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'latin1')).includes('node');
  } catch {
    return true; // no /proc: trust the pid
  }
}

async function stale(info: LockInfo | undefined): Promise<boolean> {
  if (!info || typeof info.pid !== 'number') return true; // unreadable: a torn write from a crash
  if (info.host !== hostname()) return false; // cannot check another machine's processes
  if (info.pid === process.pid) return false;
  return !(alive(info.pid) && (await looksLikeNode(info.pid)));
}

/** Takes the folder's lock or throws StorageError naming the run that holds it. Returns the release function. */
export async function lockFolder(root: string): Promise<() => Promise<void>> {
  const path = join(root, LOCK_FILE);
  if (held.has(root)) throw new StorageError(root, `another run in this process is already writing to ${root}`);
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fh = await open(path, 'wx');
      const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
      await fh.writeFile(`${JSON.stringify(info)}\n`);
      await fh.close();
      held.add(root);
      return async () => {
        held.delete(root);
        await unlink(path).catch(() => {});
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StorageError(root, `cannot lock the output folder: ${(e as Error).message}`, { cause: e });
    }
    let info: LockInfo | undefined;
    try {
      info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    } catch {
      info = undefined;
    }
    if (!(await stale(info))) {
      throw new StorageError(
        root,
        `another imagebatch run (pid ${info?.pid} on ${info?.host}, since ${info?.startedAt}) is writing to ${root}; ` +
          `wait for it, or delete ${path} if no run is active`,
      );
    }
    await unlink(path).catch(() => {});
  }
  throw new StorageError(root, `cannot lock the output folder ${root}: the lock keeps changing hands`);
}
