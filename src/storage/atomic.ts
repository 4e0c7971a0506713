// Atomic file writes: readers (and a crash) see either the old file or the whole new one, never a partial file.
import { randomBytes } from 'node:crypto';
import { close as closeCb, fsync as fsyncCb, open as openCb, write as writeCb } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { systemClock } from '../internal/clock.ts';

export interface AtomicWriteOptions {
  /** fsync the file before the rename and the folder after it, so the rename survives a power cut. @default true */
  fsync?: boolean;
  /** Aborts a streamed write between chunks (the temp file is removed). @default undefined */
  signal?: AbortSignal;
  /** How the folder is fsynced after the rename (a no-op when the caller fsyncs the folder later itself). @default fsyncDir */
  syncDir?: (dir: string) => Promise<void>;
}

const TEMP_RE = /^\..+\.[0-9a-f]{12}\.tmp$/;

/** 6 random hex digits per process, then a counter: unique across processes without a random draw per file. */
const TEMP_PREFIX = randomBytes(3).toString('hex');
let tempCounter = 0;

/** `.<name>.<12 hex>.tmp` in the target's own folder, so the rename never crosses a file system. */
export function tempNameFor(path: string): string {
  tempCounter = (tempCounter + 1) % 0x1000000;
  return join(dirname(path), `.${basename(path)}.${TEMP_PREFIX}${tempCounter.toString(16).padStart(6, '0')}.tmp`);
}

// Writes go through plain descriptors: one object and promise less per call than a FileHandle, on the path every
// image takes. The difference measured in a batch fetch was within this machine's noise (BENCHMARKS.md, issue 13).
const openFd = promisify(openCb);
const writeFd = (fd: number, data: Uint8Array, offset: number, length: number) =>
  new Promise<number>((resolve, reject) => writeCb(fd, data, offset, length, null, (e, n) => (e ? reject(e) : resolve(n))));
const fsyncFd = promisify(fsyncCb);
const closeFd = promisify(closeCb);

/**
 * Writes to a temp file next to `path`, fsyncs, renames over `path`, then fsyncs the folder (best effort: some
 * platforms cannot fsync a directory). `data` may also be a stream of chunks; if it fails midway, the temp file is
 * removed and `path` is untouched.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string | AsyncIterable<Uint8Array>, options: AtomicWriteOptions = {}): Promise<void> {
  const fsync = options.fsync ?? true;
  const signal = options.signal;
  signal?.throwIfAborted();
  const tmp = tempNameFor(path);
  const whole = typeof data === 'string' ? Buffer.from(data) : data instanceof Uint8Array ? data : undefined;
  const fd = await openFd(tmp, 'wx', 0o644); // a failure here created nothing: nothing to remove
  let isOpen = true;
  try {
    if (whole) await writeAll(fd, whole);
    else {
      for await (const chunk of data as AsyncIterable<Uint8Array>) {
        signal?.throwIfAborted();
        await writeAll(fd, chunk);
      }
    }
    if (fsync) await fsyncFd(fd);
    isOpen = false;
    await closeFd(fd);
    await rename(tmp, path);
  } catch (e) {
    if (isOpen) await closeFd(fd).catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  if (fsync) await (options.syncDir ?? fsyncDir)(dirname(path));
}

async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await writeFd(fd, data, off, data.byteLength - off);
}

/**
 * Folder fsyncs through handles opened once and kept until close(): one fsync call per round instead of open +
 * fsync + close, each of which waits its turn in libuv's four-thread pool behind the images' own fsyncs.
 */
export function heldDirSyncs(): { sync: (dir: string) => Promise<void>; close: () => Promise<void> } {
  const handles = new Map<string, Promise<FileHandle | undefined>>();
  return {
    async sync(dir) {
      let h = handles.get(dir);
      // undefined: this platform cannot open a folder (Windows); the rename is still atomic there.
      if (!h) handles.set(dir, (h = open(dir, 'r').catch(() => undefined)));
      const fh = await h;
      await fh?.sync().catch(() => {});
    },
    async close() {
      const all = [...handles.values()];
      handles.clear();
      for (const h of all) await (await h)?.close().catch(() => {});
    },
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
