// Content-addressed answer cache, shared between runs and output folders (and safely between concurrent processes).
//
// Layout: <dir>/blobs/<sha[0..2]>/<sha>            image bytes, immutable, read-only (0444), written atomically
//         <dir>/entries/<key[0..2]>/<key>.json     the answer: blob references, text, usage, modelVersion
// Every file appears by an atomic rename of a complete temp file; two processes writing the same key or blob write
// identical (or equally valid) content, so whichever rename lands last wins and nothing is ever half-written.
import { copyFile, link, mkdir, readFile, readdir, rename, stat, unlink, chmod, open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { OptionError, StorageError } from '../errors.ts';
import { sha256Hex, stableHash } from '../internal/hash.ts';
import { signatureText } from '../internal/signature-text.ts';
import type { ImageData, Usage } from '../types.ts';
import { fsyncDir, removeOrphanTemps, tempNameFor, writeFileAtomic } from './atomic.ts';

export interface CachedAnswer {
  /** thoughtSignature: the part's signature (base64 text) a later edit needs; a hit without it could not be edited. */
  images: { sha256: string; mimeType: string; bytes: number; thoughtSignature?: string }[];
  text: string[];
  usage?: Usage;
  modelVersion?: string;
}

const SHA_RE = /^[0-9a-f]{64}$/;
const KEY_RE = /^[A-Za-z0-9_-]{8,128}$/;
/** Temps older than this are crash leftovers; younger ones may belong to a live process sharing the cache. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;

/** A cache blob whose bytes no longer hash to its name: changed on disk after it was stored. */
export class CacheMismatchError extends StorageError {
  readonly sha256: string;
  constructor(path: string, sha256: string) {
    super(path, `cache blob ${sha256} changed on disk (its bytes no longer match its sha256)`);
    this.sha256 = sha256;
  }
}

export interface ImageCacheOptions {
  /** @default undefined */
  signal?: AbortSignal;
}

export class ImageCache {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Opens (creating) the cache. Folder: `dir`, else $IMAGEBATCH_CACHE_DIR, else env-paths('imagebatch').cache
   * (~/.cache/imagebatch on Linux). Removes crash-left temp files older than an hour.
   */
  static async open(dir?: string, options: ImageCacheOptions = {}): Promise<ImageCache> {
    options.signal?.throwIfAborted();
    const root = resolve(dir ?? process.env.IMAGEBATCH_CACHE_DIR ?? envPaths('imagebatch', { suffix: '' }).cache);
    try {
      await mkdir(join(root, 'blobs'), { recursive: true });
      await mkdir(join(root, 'entries'), { recursive: true });
      for (const top of ['blobs', 'entries']) {
        for (const sub of await readdir(join(root, top))) await removeOrphanTemps(join(root, top, sub), { olderThanMs: ORPHAN_AGE_MS });
      }
    } catch (e) {
      throw new StorageError(root, `cannot use the cache folder: ${(e as Error).message}`, { cause: e });
    }
    return new ImageCache(root);
  }

  /**
   * Key of one request: the endpoint (the base URL answers come from), model, the GenerateContentRequest body as
   * first sent (callers pass it WITHOUT any retry reinforcement) + variant. Variant 0 counts as none, like job keys.
   * The endpoint keeps an emulator's or test server's pictures from ever being served to a run against Google
   * (v2: v1 keys had no endpoint, so entries written under them may hold such pictures and are never looked up).
   * 32 hex characters.
   */
  static keyFor(endpoint: string, model: string, request: unknown, variant?: number): string {
    return stableHash({ v: 2, endpoint, model, request, variant: variant ? variant : undefined }, 32);
  }

  /** The answer, or undefined when absent, unreadable, or any of its blobs is missing or has the wrong size. */
  async get(key: string): Promise<CachedAnswer | undefined> {
    const path = this.entryPath(key);
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
    const answer = parseAnswer(raw);
    if (!answer) return undefined;
    for (const img of answer.images) {
      const st = await stat(this.blobPath(img.sha256)).catch(() => undefined);
      if (!st?.isFile() || st.size !== img.bytes) return undefined;
    }
    return answer;
  }

  /** Stores the blobs (skipping ones already present) and then the entry, so an entry never points at a missing blob. */
  async put(key: string, answer: { images: (ImageData & { sha256?: string })[]; text: string[]; usage?: Usage; modelVersion?: string }): Promise<void> {
    const entryPath = this.entryPath(key);
    const images: CachedAnswer['images'] = [];
    for (const img of answer.images) {
      // A Result's images come hashed already (core/result.ts); hashing them again would only repeat it.
      const sha256 = img.sha256 || sha256Hex(img.data);
      const path = this.blobPath(sha256);
      const st = await stat(path).catch(() => undefined);
      if (!st || st.size !== img.data.byteLength) {
        await mkdir(dirname(path), { recursive: true });
        await writeFileAtomic(path, img.data);
        // Outputs may be hard links to this blob: read-only keeps an in-place edit of an output from changing it.
        await chmod(path, 0o444).catch(() => {});
      }
      const sig = img.thoughtSignature?.byteLength ? { thoughtSignature: signatureText(img.thoughtSignature) } : {};
      images.push({ sha256, mimeType: img.mimeType, bytes: img.data.byteLength, ...sig });
    }
    const entry: CachedAnswer = { images, text: answer.text };
    if (answer.usage) entry.usage = answer.usage;
    if (answer.modelVersion) entry.modelVersion = answer.modelVersion;
    await mkdir(dirname(entryPath), { recursive: true });
    await writeFileAtomic(entryPath, `${JSON.stringify({ v: 1, ...entry })}\n`);
  }

  /**
   * The bytes of a blob, checked against their sha256 (hashing is cheap next to a paid request): a blob changed on
   * disk is removed and CacheMismatchError thrown, so the caller drops the entry and requests the job again.
   * Throws StorageError when the blob is missing.
   */
  async read(blobSha256: string): Promise<Uint8Array> {
    const path = this.blobPath(blobSha256);
    let data: Uint8Array;
    try {
      data = await readFile(path);
    } catch (e) {
      throw new StorageError(path, `cache blob missing: ${blobSha256}`, { cause: e });
    }
    if (sha256Hex(data) !== blobSha256) {
      await unlink(path).catch(() => {});
      throw new CacheMismatchError(path, blobSha256);
    }
    return data;
  }

  /** Forgets one entry (its blobs stay: other entries may share them). */
  async drop(key: string): Promise<void> {
    await unlink(this.entryPath(key)).catch(() => {});
  }

  /**
   * Puts a blob at dest atomically: a hard link to a temp name renamed over dest, or, across file systems or where
   * links are refused, a fsynced copy. The output is then read-only like the blob (see put).
   */
  async materialize(blobSha256: string, dest: string): Promise<void> {
    const src = this.blobPath(blobSha256);
    const tmp = tempNameFor(dest);
    try {
      try {
        await link(src, tmp);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw e;
        await copyFile(src, tmp);
        const fh = await open(tmp, 'r');
        await fh.sync().finally(() => fh.close());
      }
      await rename(tmp, dest);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw new StorageError(dest, `cannot materialize cache blob ${blobSha256}: ${(e as Error).message}`, { cause: e });
    }
    await fsyncDir(dirname(dest));
  }

  blobPath(sha256: string): string {
    if (!SHA_RE.test(sha256)) throw new OptionError('sha256', sha256, '64 lowercase hex characters');
    return join(this.dir, 'blobs', sha256.slice(0, 2), sha256);
  }

  entryPath(key: string): string {
    if (!KEY_RE.test(key)) throw new OptionError('key', key, '8 to 128 characters of [A-Za-z0-9_-]');
    return join(this.dir, 'entries', key.slice(0, 2), `${key}.json`);
  }
}

function parseAnswer(raw: string): CachedAnswer | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const e = v as Partial<CachedAnswer> & { v?: number };
  if (!e || e.v !== 1 || !Array.isArray(e.images) || !Array.isArray(e.text)) return undefined;
  for (const i of e.images as unknown[]) {
    const g = i as Partial<CachedAnswer['images'][number]> | null;
    if (!g || typeof g.sha256 !== 'string' || !SHA_RE.test(g.sha256) || typeof g.bytes !== 'number' || typeof g.mimeType !== 'string') return undefined;
    if (g.thoughtSignature !== undefined && typeof g.thoughtSignature !== 'string') return undefined;
  }
  const out: CachedAnswer = { images: e.images, text: e.text };
  if (e.usage) out.usage = e.usage;
  if (e.modelVersion) out.modelVersion = e.modelVersion;
  return out;
}
