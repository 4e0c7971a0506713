// Input that can be read only once (stdin, a pipe, process substitution `<(…)`, a named FIFO) is copied to a temp
// file first: validation and the run are two passes, and both must read the same bytes. The copy is always removed:
// by releaseSpool (openInput's cleanup), at process exit, or when SIGINT/SIGTERM arrives while the copy is being made.
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** One copy per source (a stream, or the path of a pipe/FIFO), so both passes over the same source share it. */
const spools = new Map<Readable | string, Promise<string>>();
/** Temp folders not yet removed. */
const dirs = new Set<string>();
let exitHook = false;

const removeAll = () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
};

/**
 * Copies `source` (a stream, or a path that is not a regular file) to `<tmpdir>/imagebatch-input-XXXXXX/input`
 * once and returns that path.
 */
export function spool(source: Readable | string, signal?: AbortSignal): Promise<string> {
  const existing = spools.get(source);
  if (existing) return existing;
  const p = copy(source, signal);
  spools.set(source, p);
  return p;
}

async function copy(source: Readable | string, signal?: AbortSignal): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'imagebatch-input-'));
  dirs.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', removeAll);
  }
  const file = join(dir, 'input');
  const stop = onSignalWhileWaiting(dir);
  try {
    const from = typeof source === 'string' ? createReadStream(source, { signal }) : source;
    await pipeline(from, createWriteStream(file), { signal });
    return file;
  } finally {
    stop();
  }
}

/**
 * Waiting for a pipe's writer (or for Ctrl-D on a terminal) can take forever. A signal then removes the copy; when no
 * one else listens for that signal (the CLI installs its own handlers only later), the process ends with it as it
 * would have without us: 130 for Ctrl-C, 143 for SIGTERM. Node's 'exit' event does not run on a signal death.
 */
function onSignalWhileWaiting(dir: string): () => void {
  const handler = (sig: NodeJS.Signals) => {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    const alone = process.listenerCount(sig) === 1;
    remove();
    if (alone) process.kill(process.pid, sig);
  };
  const remove = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return remove;
}

/** Removes the copy of `source`, if one was made. */
export async function releaseSpool(source: Readable | string): Promise<void> {
  const p = spools.get(source);
  if (!p) return;
  spools.delete(source);
  const file = await p.catch(() => undefined);
  if (!file) return;
  const dir = join(file, '..');
  dirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}
