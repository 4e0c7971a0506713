// The output folder: images written atomically, then their manifest line; summary.json at the end.
import { mkdir, readdir, rmdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StorageError } from '../errors.ts';
import { sha256Hex } from '../internal/hash.ts';
import { imageDimensions, sizeMismatch } from '../internal/image-size.ts';
import { defaultRedactor } from '../internal/redact.ts';
import type { FailedResult, Result, RunSummary } from '../types.ts';
import { heldDirSyncs, removeOrphanTemps, writeFileAtomic } from './atomic.ts';
import type { ImageCache } from './cache.ts';
import { OutputConflictError, OutputNames } from './claim.ts';
import { MANIFEST_FILE, ManifestWriter, readManifest, type ManifestEntry, type ManifestFile } from './manifest.ts';
import { confinedPath, imageFileName } from './names.ts';
import { lockFolder } from './lock.ts';
import { sidecarJson, sidecarName, withPngProvenance } from './metadata.ts';

export const SUMMARY_FILE = 'summary.json';
export const GALLERY_FILE = 'index.html';
/** The folder of the gallery's data files, next to index.html (src/report/gallery-data.ts writes them). */
export const GALLERY_DATA_DIR = 'gallery';

/** Is this a name the gallery writes in GALLERY_DATA_DIR? Anything else there is not ours to delete. */
export function isGalleryDataFile(name: string): boolean {
  return /^(?:jobs-\d{5,}|prompts-\d{3,}|columns)\.js$/.test(name);
}

export interface OutputFolderOptions {
  /** Delete what a previous run made here first: the files its manifest lists, manifest.jsonl, summary.json, index.html and its data files. Nothing else. @default false */
  fresh?: boolean;
  /** Manifest fsync policy (see ManifestWriterOptions). Images are always fsynced. @default 'batch' */
  fsync?: 'always' | 'batch';
  /** Source of `finishedAt`. @default () => new Date() */
  now?: () => Date;
  /** @default undefined */
  signal?: AbortSignal;
}

export interface SaveOptions {
  /** For results served from the cache: hard-link the blobs instead of writing the bytes again. @default undefined */
  cache?: Pick<ImageCache, 'materialize'>;
}

export class OutputFolder {
  readonly dir: string;
  private readonly manifest: ManifestWriter;
  private readonly now: () => Date;
  private readonly unlock: () => Promise<void>;
  private readonly names: OutputNames;
  /** The folder's handle, held open for the folder fsync that precedes every manifest fsync. */
  private readonly dirs: ReturnType<typeof heldDirSyncs>;

  private constructor(dir: string, manifest: ManifestWriter, dirs: ReturnType<typeof heldDirSyncs>, now: () => Date, unlock: () => Promise<void>) {
    this.dir = dir;
    this.dirs = dirs;
    this.names = new OutputNames(dir);
    this.manifest = manifest;
    this.now = now;
    this.unlock = unlock;
  }

  /**
   * Creates the folder, takes its lock (one run per folder), removes temp files a crash left, applies `fresh`,
   * opens the manifest for append.
   */
  static async open(dir: string, options: OutputFolderOptions = {}): Promise<OutputFolder> {
    options.signal?.throwIfAborted();
    const root = resolve(dir);
    let unlock: (() => Promise<void>) | undefined;
    try {
      await mkdir(root, { recursive: true });
      // Locked before the temp clean-up: another live run's temp files are not orphans.
      unlock = await lockFolder(root);
      await removeOrphanTemps(root);
      if (options.fresh) await clearPreviousRun(root, options.signal);
      // The renames of the images a line names become durable before the line does: the folder is fsynced before
      // every manifest fsync (one folder fsync per manifest fsync, not one per image).
      const dirs = heldDirSyncs();
      const manifest = await ManifestWriter.open(root, { fsync: options.fsync ?? 'batch', beforeSync: () => dirs.sync(root) });
      return new OutputFolder(root, manifest, dirs, options.now ?? (() => new Date()), unlock);
    } catch (e) {
      await unlock?.();
      if (e instanceof StorageError || (e as Error).name === 'AbortError') throw e;
      throw new StorageError(root, `cannot prepare the output folder: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Writes each image atomically (fsynced, then renamed) BEFORE appending the manifest line, and fsyncs the folder
   * (the renames) before the manifest is fsynced, so a line on disk never names a file that is not fully on disk. Never replaces a file that is not this job's own earlier image (see OutputNames): such a name
   * gets `-2`, `-3`, ...; a directory at the name makes the entry a failure (`output_conflict`). Fills
   * SavedImage.file/bytes/sha256 in the result. Returns the manifest entry written: callers report ITS status.
   */
  async save(result: Result, options: SaveOptions = {}): Promise<ManifestEntry> {
    const files: ManifestFile[] = [];
    if (result.status === 'succeeded') {
      const count = result.images.length;
      // No index or folder in it: the same request gives the same bytes in every output folder (and the cache).
      const provenance = { prompt: result.job.prompt, key: result.job.key, model: result.model, variant: result.job.variant };
      for (const [i, img] of result.images.entries()) {
        // The prompt and the thoughtSignature travel inside a PNG; other formats get them in a `.json` sidecar, and
        // so does the signature of a PNG we cannot read. The manifest records the bytes as written, metadata included.
        const signature = img.thoughtSignature?.byteLength ? img.thoughtSignature : undefined;
        const png = img.mimeType === 'image/png';
        const data = png ? withPngProvenance(img.data, provenance, signature) : img.data;
        const sidecar = !png || (signature !== undefined && data === img.data);
        let name: string;
        try {
          name = await this.names.claim(imageFileName(result.job, i + 1, count, img.mimeType), result.job.key, sidecar ? [sidecarName('')] : []);
        } catch (e) {
          if (!(e instanceof OutputConflictError)) throw e;
          // One job's name is blocked; the run goes on. Files already written for this answer stay (unrecorded).
          const failed: FailedResult = { ...result, status: 'failed', reason: 'output_conflict', message: e.message };
          const entry = toEntry(failed, [], this.now());
          await this.manifest.append(entry);
          return entry;
        }
        const path = confinedPath(this.dir, name);
        const sha256 = sha256Hex(data);
        const linked = data === img.data && options.cache && result.from === 'cache' && (await tryMaterialize(options.cache, sha256, path));
        try {
          if (!linked) await writeFileAtomic(path, data, { fsync: true, syncDir: manifestSyncsDir });
          if (sidecar) await writeFileAtomic(confinedPath(this.dir, sidecarName(name)), sidecarJson(provenance, name, signature), { fsync: true, syncDir: manifestSyncsDir });
        } catch (e) {
          this.names.release(name);
          throw new StorageError(path, `cannot write image: ${(e as Error).message}`, { cause: e });
        }
        const file: ManifestFile = { path: name, bytes: data.byteLength, sha256, mimeType: img.mimeType };
        const dims = imageDimensions(data);
        if (dims) {
          file.width = img.width = dims.width;
          file.height = img.height = dims.height;
          const mismatch = sizeMismatch(dims, { aspectRatio: result.job.aspectRatio, imageSize: result.job.imageSize });
          if (mismatch) file.sizeMismatch = img.sizeMismatch = mismatch;
        }
        if (signature) file.signatureIn = sidecar ? sidecarName(name) : name;
        img.file = name;
        img.data = data;
        img.bytes = data.byteLength;
        img.sha256 = sha256;
        files.push(file);
      }
    }
    const entry = toEntry(result, files, this.now());
    await this.manifest.append(entry);
    for (const f of files) await this.names.wrote(f.path, entry.key, f.sha256);
    return entry;
  }

  async writeSummary(summary: RunSummary): Promise<void> {
    await writeSummaryFile(this.dir, summary);
  }

  /** Flushes and fsyncs the manifest. */
  async flush(): Promise<void> {
    await this.manifest.flush();
  }

  async close(): Promise<void> {
    try {
      await this.manifest.close();
    } finally {
      await this.dirs.close();
      await this.unlock();
    }
  }
}

/** The folder fsync after an image's rename is left to the manifest, which does it before its own fsync. */
const manifestSyncsDir = async (): Promise<void> => {};

async function tryMaterialize(cache: Pick<ImageCache, 'materialize'>, sha256: string, dest: string): Promise<boolean> {
  try {
    await cache.materialize(sha256, dest);
    return true;
  } catch {
    return false; // blob gone: the bytes in hand are written instead
  }
}

/** Folders written before 2026-12 kept a thoughtSignature in `<image>.signature` (ManifestFile.signature). */
const LEGACY_SIGNATURE_SUFFIX = '.signature';

/** Only files we made: those the old manifest lists (and only inside the folder), plus our three fixed files. */
async function clearPreviousRun(root: string, signal?: AbortSignal): Promise<void> {
  const gone = async (p: string) => {
    try {
      await unlink(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  };
  for await (const entry of readManifest(root, { signal })) {
    for (const f of entry.files) {
      let p: string;
      try {
        p = confinedPath(root, f.path);
      } catch {
        continue; // a hostile or hand-edited line naming a path outside: never delete it
      }
      await gone(p);
      if (f.signatureIn?.endsWith('.json') || f.mimeType !== 'image/png') await gone(sidecarName(p)); // its provenance sidecar
      if (f.signature !== undefined) await gone(`${p}${LEGACY_SIGNATURE_SUFFIX}`); // its thought signature (old folders)
    }
  }
  for (const name of [MANIFEST_FILE, SUMMARY_FILE, GALLERY_FILE]) await gone(join(root, name));
  // The gallery's data files, by name; their folder only if that left it empty.
  const data = join(root, GALLERY_DATA_DIR);
  const names = await readdir(data).catch(() => [] as string[]);
  for (const name of names) if (isGalleryDataFile(name)) await gone(join(data, name));
  if (names.length > 0) await rmdir(data).catch(() => undefined);
}

/** Writes `<dir>/summary.json` atomically (a reader never sees half of it). */
export async function writeSummaryFile(dir: string, summary: RunSummary): Promise<void> {
  await writeFileAtomic(join(dir, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
}

function toEntry(r: Result, files: ManifestFile[], at: Date): ManifestEntry {
  const e: ManifestEntry = {
    v: 1,
    key: r.job.key,
    index: r.job.index,
    prompt: r.job.prompt,
    status: r.status,
    files,
    attempts: r.attempts,
    model: r.model,
    latencyMs: Math.round(r.latencyMs),
    finishedAt: at.toISOString(),
  };
  if (r.backend) e.backend = r.backend;
  if (r.status === 'succeeded') {
    if (r.from) e.from = r.from;
    if (r.from === 'cache') e.cached = true;
    if (r.text.length) e.text = r.text;
    if (r.thoughts?.length) e.thoughts = r.thoughts;
  } else {
    e.reason = r.reason;
    e.message = defaultRedactor(r.message); // never let a key reach the manifest
    if (r.blockReason !== undefined) e.blockReason = r.blockReason;
    if (r.httpStatus !== undefined) e.httpStatus = r.httpStatus;
  }
  if (r.costUsd !== undefined) e.costUsd = r.costUsd;
  if (r.usage) e.usage = r.usage;
  return e;
}
