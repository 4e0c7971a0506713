// Atomic file writes: readers (and a crash) see either the old file or the whole new one, never a partial file.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { systemClock } from '../internal/clock.ts';

export interface AtomicWriteOptions {
  /** fsync the file before the rename and the folder after it, so the rename survives a power cut. @default true */
  fsync?: boolean;
  /** Aborts a streamed write between chunks (the temp file is removed). @default undefined */
  signal?: AbortSignal;
  /** How the folder is fsynced after the rename (e.g. a coalescedDirSync shared by concurrent writers). @default fsyncDir */
  syncDir?: (dir: string) => Promise<void>;
}

const TEMP_RE = /^\..+\.[0-9a-f]{12}\.tmp$/;

/** `.<name>.<12 hex>.tmp` in the target's own folder, so the rename never crosses a file system. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes to a temp file next to `path`, fsyncs, renames over `path`, then fsyncs the folder (best effort: some
 * platforms cannot fsync a directory). `data` may also be a stream of chunks; if it fails midway, the temp file is
 * removed and `path` is untouched.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string | AsyncIterable<Uint8Array>, options: AtomicWriteOptions = {}): Promise<void> {
  const fsync = options.fsync ?? true;
  options.signal?.throwIfAborted();
  const tmp = tempNameFor(path);
  const fh = await open(tmp, 'wx', 0o644);
  let closed = false;
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await fh.writeFile(data);
    } else {
      for await (const chunk of data) {
        options.signal?.throwIfAborted();
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
    }
    if (fsync) await fh.sync();
    closed = true;
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    if (!closed) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  if (fsync) await (options.syncDir ?? fsyncDir)(dirname(path));
}

/**
 * One folder fsync for many concurrent renames: a caller gets a promise for an fsync of `dir` that STARTED after
 * its call (so its rename is covered), joining the next round when one is already running. Sixteen images saved at
 * once cost two folder fsyncs instead of sixteen, with the same guarantee for each.
 */
export function coalescedDirSync(sync: (dir: string) => Promise<void> = fsyncDir): (dir: string) => Promise<void> {
  const rounds = new Map<string, { running?: Promise<void>; next?: Promise<void> }>();
  const start = (dir: string, r: { running?: Promise<void> }) => {
    const p: Promise<void> = sync(dir).finally(() => {
      if (r.running === p) r.running = undefined;
    });
    r.running = p;
    return p;
  };
  return (dir) => {
    let r = rounds.get(dir);
    if (!r) rounds.set(dir, (r = {}));
    const round = r;
    if (!round.running) return start(dir, round);
    // The running fsync may have begun before this caller's rename: wait for the one after it.
    round.next ??= round.running.then(() => {
      round.next = undefined;
      return round.running ?? start(dir, round);
    });
    return round.next;
  };
}

export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Windows and some file systems refuse to open or fsync a directory; the rename is still atomic there.
  }
}

export interface OrphanOptions {
  /** Only temps whose mtime is at least this old, so a live writer sharing the folder keeps its temp. @default 0 */
  olderThanMs?: number;
}

/** Removes temp files left by a crash (`.<name>.<12 hex>.tmp`) directly in dir; returns how many. A missing dir is 0. */
export async function removeOrphanTemps(dir: string, options: OrphanOptions = {}): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  const olderThanMs = options.olderThanMs ?? 0;
  let n = 0;
  for (const name of names) {
    if (!TEMP_RE.test(name)) continue;
    const p = join(dir, name);
    try {
      // File times are wall-clock times, so their age is measured on the wall clock (never an injected one).
      if (olderThanMs > 0 && systemClock.now() - (await stat(p)).mtimeMs < olderThanMs) continue;
      await unlink(p);
      n++;
    } catch {
      // Gone already (another process cleaned it) or not a file: nothing to do.
    }
  }
  return n;
}
