// The manifest: an append-only JSON-lines journal, one line per settled job. It is the truth for resume.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors.ts';
import { readLines } from '../internal/jsonl.ts';
import type { FailureReason, Usage } from '../types.ts';

export const MANIFEST_FILE = 'manifest.jsonl';

export interface ManifestFile {
  /** Relative to the output folder. */
  path: string;
  bytes: number;
  sha256: string;
  mimeType: string;
  /** Real pixel size from the image header (absent for a format we cannot read). */
  width?: number;
  height?: number;
  /** Set when the image is not the aspectRatio/imageSize asked for, e.g. "asked for imageSize 4K, got 1024×1024". */
  sizeMismatch?: string;
  /**
   * Where the part's thoughtSignature (which a later edit of this image needs) is kept, relative to the folder: the
   * image itself (PNG: an `imagebatch:thoughtSignature` iTXt record) or its `.json` sidecar (`thoughtSignature`).
   * readThoughtSignature() reads either.
   */
  signatureIn?: string;
  /** Folders written before 2026-12: the raw `<image>.signature` file holding the thoughtSignature. */
  signature?: string;
}

export interface ManifestEntry {
  v: 1;
  key: string;
  index: number;
  prompt: string;
  status: 'succeeded' | 'failed';
  files: ManifestFile[];
  reason?: FailureReason;
  message?: string;
  blockReason?: string;
  httpStatus?: number;
  attempts: number;
  model: string;
  latencyMs: number;
  from?: 'api' | 'cache' | 'batch';
  cached?: boolean;
  /** 'vertex' for jobs run on Vertex AI; absent for the Gemini Developer API. */
  backend?: 'vertex';
  costUsd?: number;
  usage?: Usage;
  text?: string[];
  /** Thought text of a thinking model (thought images are never kept). */
  thoughts?: string[];
  /** ISO 8601. */
  finishedAt: string;
}

export interface ManifestWriterOptions {
  /**
   * 'always': fsync after every line (a line is on disk when append resolves). 'batch': fsync at most every 100 ms or
   * every 50 lines, and on flush/close; a power cut may lose the last lines, which resume then simply redoes (the
   * images themselves are always fsynced before their line is written). @default 'batch'
   */
  fsync?: 'always' | 'batch';
  /**
   * Runs before every fsync of the manifest (OutputFolder: the folder fsync that makes the images' renames durable
   * before the lines naming them are). @default none
   */
  beforeSync?: () => Promise<void>;
}

const BATCH_MS = 100;
const BATCH_LINES = 50;

export class ManifestWriter {
  readonly path: string;
  private readonly fh: FileHandle;
  private readonly policy: 'always' | 'batch';
  private readonly beforeSync: (() => Promise<void>) | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Lines appended but not yet handed to a write, with their callers' promises. */
  private waiting: { line: Buffer; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private unsynced = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The 'batch' fsync in progress, beside the writes; `again`: lines were written while it ran. */
  private syncing: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private failure: unknown;

  private constructor(path: string, fh: FileHandle, policy: 'always' | 'batch', beforeSync?: () => Promise<void>) {
    this.path = path;
    this.fh = fh;
    this.policy = policy;
    this.beforeSync = beforeSync;
  }

  /** Creates the folder if needed; repairs a torn last line first so the next line is never glued onto it. */
  static async open(dir: string, options: ManifestWriterOptions = {}): Promise<ManifestWriter> {
    const policy = options.fsync ?? 'batch';
    const path = join(dir, MANIFEST_FILE);
    try {
      await mkdir(dir, { recursive: true });
      await assertPlainManifest(path);
      await repairTail(path);
      // O_NOFOLLOW: a link swapped in after the check above still fails (ELOOP) instead of being written through.
      return new ManifestWriter(path, await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, 0o644), policy, options.beforeSync);
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError(path, `cannot open the manifest: ${(e as Error).message}`, { cause: e });
    }
  }

  /** A writer over a file the caller opened (tests: /dev/full is a disk that is full, without filling one). */
  static overHandle(path: string, fh: FileHandle, options: ManifestWriterOptions = {}): ManifestWriter {
    return new ManifestWriter(path, fh, options.fsync ?? 'batch', options.beforeSync);
  }

  /**
   * Appends one line. Lines are written whole and in order by one writer: the lines that arrive while a write is
   * in flight go out together in the next single `write` (O_APPEND), so concurrent appends never interleave and
   * sixteen savers finishing at once cost one write, not sixteen queued ones. Resolves when the line is written
   * (and fsynced, with 'always').
   */
  append(entry: ManifestEntry): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError(this.path, 'the manifest is closed'));
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ line, resolve, reject });
      if (this.waiting.length === 1) this.chain = this.chain.then(() => this.writeWaiting());
    });
  }

  /** Writes every line waiting (one group), settling their promises. Runs on the chain, one at a time. */
  private async writeWaiting(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    if (group.length === 0) return;
    try {
      if (this.failure) throw this.failure;
      const bytes = group.length === 1 ? group[0]!.line : Buffer.concat(group.map((w) => w.line));
      let written: number;
      try {
        ({ bytesWritten: written } = await this.fh.write(bytes));
      } catch (e) {
        written = -1;
        this.failure = new StorageError(this.path, `cannot append to the manifest: ${(e as Error).message}`, { cause: e });
      }
      // A short write (disk full) leaves a torn line: appending after it would glue two lines together, so the
      // writer stops here; the next open cuts the torn tail off.
      if (written >= 0 && written < bytes.length) this.failure = new StorageError(this.path, `short write to the manifest (${written} of ${bytes.length} bytes): is the disk full?`);
      if (this.failure) throw this.failure;
      this.unsynced += group.length;
      if (this.policy === 'always') await this.syncNow();
      else if (this.unsynced >= BATCH_LINES) this.syncBeside();
      else this.schedule();
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    for (const w of group) w.resolve();
  }

  /** Waits for every append and fsyncs. */
  async flush(): Promise<void> {
    await this.chain;
    await this.syncing;
    if (this.failure) throw this.failure;
    await this.syncNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.syncBeside();
    }, BATCH_MS);
    // A pending fsync must not keep the process alive; the data is already written to the OS.
    this.timer.unref();
  }

  /**
   * With 'batch', an fsync runs beside the writes instead of in line with them: the appends that triggered it
   * resolve at once (their durability is the batch's, by contract), and the lines after them are written while it
   * runs. In line, every 50th line held the writer, and with it up to 50 savers and the fetch's whole write window,
   * for a folder fsync and a manifest fsync (BENCHMARKS.md, issue 13). One fsync at a time; lines written meanwhile
   * get the next one. A failure is kept and fails the next append or flush.
   */
  private syncBeside(): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    const run = async () => {
      do {
        this.again = false;
        await this.syncNow();
      } while (this.again);
    };
    this.syncing = run()
      .catch((e: unknown) => {
        this.failure ??= new StorageError(this.path, `cannot fsync the manifest: ${(e as Error).message}`, { cause: e });
      })
      .finally(() => {
        this.syncing = undefined;
      });
  }

  private async syncNow(): Promise<void> {
    if (this.unsynced === 0) return;
    this.unsynced = 0;
    await this.beforeSync?.();
    await this.fh.sync();
  }
}

/** 0 where the platform has no O_NOFOLLOW (Windows): the lstat check then stands alone. */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * The manifest must be a plain file inside the folder (or absent): appending through a symbolic link would write
 * outside the output folder, wherever the link points. Throws StorageError with a sentence saying what is there.
 */
export async function assertPlainManifest(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StorageError(path, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (st.isSymbolicLink()) {
    const target = await readlink(path).catch(() => '?');
    throw new StorageError(path, `${path} is a symbolic link (to ${target}); imagebatch never writes or reads the manifest through a link: replace it with the file itself or use another --out`);
  }
  if (st.isDirectory()) throw new StorageError(path, `${path} is a directory, not a manifest file`);
  if (!st.isFile()) throw new StorageError(path, `${path} is not a regular file`);
}

/**
 * A crash mid-write can leave a last line without its newline. If that tail is a complete entry, terminate it;
 * otherwise cut it off, so the next append starts on a fresh line.
 */
async function repairTail(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return;
  }
  if (size === 0) return;
  const fh = await open(path, constants.O_RDWR | NOFOLLOW);
  try {
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return;
    const start = await lastNewline(fh, size);
    const tail = Buffer.alloc(size - start);
    await fh.read(tail, 0, tail.length, start);
    if (parseEntry(tail.toString('utf8')) !== undefined) await fh.write('\n', size);
    else await fh.truncate(start);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Offset just after the last '\n' before `size` (0 if none), reading backwards in chunks. */
async function lastNewline(fh: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const from = Math.max(0, end - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, end - from, from);
    const i = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (i !== -1) return from + i + 1;
    end = from;
  }
  return 0;
}

/** A parsed line, or undefined when it is not a manifest entry we can use. */
export function parseEntry(text: string): ManifestEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const e = v as Partial<ManifestEntry>;
  if (e.v !== 1 || typeof e.key !== 'string' || (e.status !== 'succeeded' && e.status !== 'failed')) return undefined;
  if (typeof e.index !== 'number' || !Array.isArray(e.files)) return undefined;
  for (const f of e.files as unknown[]) {
    const g = f as Partial<ManifestFile> | null;
    if (!g || typeof g.path !== 'string' || typeof g.bytes !== 'number' || typeof g.sha256 !== 'string') return undefined;
  }
  return e as ManifestEntry;
}

/** Line numbers kept for a report; the count goes on past them. */
export const SKIPPED_LINES_KEPT = 100;

/** What readManifest saw besides entries; filled as iteration proceeds. */
export interface ManifestReader extends AsyncIterable<ManifestEntry> {
  /** Unusable lines in the middle of the file (skipped). */
  readonly skipped: number;
  /** Their 1-based line numbers (the first SKIPPED_LINES_KEPT of them), so a report can point at them. */
  readonly skippedLines: readonly number[];
  /** True when the last line was unusable (a torn write) and ignored. */
  readonly tornTail: boolean;
}

/**
 * Streams the entries of `<dir>/manifest.jsonl`: none if it does not exist, StorageError if it is a link or a
 * directory. Tolerant: an unusable last line is a torn write and is ignored (`tornTail`); an unusable line in the
 * middle is skipped and counted (`skipped`).
 */
export function readManifest(dir: string, options: { signal?: AbortSignal } = {}): ManifestReader {
  const path = join(dir, MANIFEST_FILE);
  const state = { skipped: 0, skippedLines: [] as number[], tornTail: false };
  async function* entries(): AsyncGenerator<ManifestEntry> {
    options.signal?.throwIfAborted();
    await assertPlainManifest(path);
    try {
      await stat(path);
    } catch {
      return;
    }
    let pendingBad = 0; // line number of an unusable line not yet known to be in the middle
    for await (const l of readLines(path, options.signal)) {
      if (l.text.trim() === '') continue;
      const e = l.invalid ? undefined : parseEntry(l.text);
      if (pendingBad) {
        state.skipped++;
        if (state.skippedLines.length < SKIPPED_LINES_KEPT) state.skippedLines.push(pendingBad);
      }
      pendingBad = e === undefined ? l.line : 0;
      if (e) yield e;
    }
    state.tornTail = pendingBad !== 0;
  }
  return {
    get skipped() {
      return state.skipped;
    },
    get skippedLines() {
      return state.skippedLines;
    },
    get tornTail() {
      return state.tornTail;
    },
    [Symbol.asyncIterator]: () => entries(),
  };
}
