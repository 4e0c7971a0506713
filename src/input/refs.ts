// Reference images: resolve, confine to baseDir, size-check, hash. URLs are kept as given and never fetched here.
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { MAGIC_BYTES, sniffImage } from './image-magic.ts';
import { createHash } from 'node:crypto';
import { extname, isAbsolute, resolve, sep } from 'node:path';
import { StorageError } from '../errors.ts';
import type { ImageData, Job, ReferenceImage } from '../types.ts';
import { ReferenceFetchError, type RemoteRefs } from './remote-ref.ts';
import { MAX_REF_BYTES, MAX_REQUEST_BYTES, type FieldIssue } from './schema.ts';

const MIME_BY_EXT: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

interface Hashed {
  sha256: string;
  bytes: number;
  mtimeMs: number;
}

export interface RefContext {
  baseDir: string;
  allowOutsideRefs: boolean;
  /** Resolved path → hash, so an image named on many lines is read once per pass. */
  memo: Map<string, Hashed>;
  signal?: AbortSignal;
}

/** Memo entries kept at most; past this, older ones are dropped (a plain bound, not an LRU). */
const MEMO_LIMIT = 10_000;

export function mimeTypeForPath(p: string): string | undefined {
  const clean = p.split(/[?#]/)[0] ?? p;
  return MIME_BY_EXT[extname(clean).toLowerCase()];
}

/**
 * Resolves every reference of one line. Local files get an absolute path, sha256 and mimeType; http(s) URLs keep
 * their URL and a mimeType guessed from the extension (may be undefined). `promptBytes` counts toward the request cap.
 */
export async function resolveRefs(refs: string[], promptBytes: number, ctx: RefContext): Promise<{ images?: ReferenceImage[]; issues: FieldIssue[] }> {
  const issues: FieldIssue[] = [];
  const images: ReferenceImage[] = [];
  let requestBytes = promptBytes;
  for (const [i, ref] of refs.entries()) {
    const field = `images.${i}`;
    if (URL_RE.test(ref)) {
      if (!/^https?:\/\//i.test(ref)) issues.push({ field, message: `only http(s) URLs are supported, got ${ref.split(':')[0]}:` });
      else images.push({ path: ref, mimeType: mimeTypeForPath(ref) });
      continue;
    }
    const one = await resolveLocal(ref, ctx);
    if ('message' in one) {
      issues.push({ field, message: one.message });
      continue;
    }
    requestBytes += Math.ceil(one.bytes / 3) * 4;
    images.push({ path: one.path, sha256: one.sha256, mimeType: one.mimeType });
  }
  if (issues.length === 0 && requestBytes >= MAX_REQUEST_BYTES) {
    issues.push({ field: 'images', message: `reference images make the request ${mb(requestBytes)} once base64-encoded; the limit is ${mb(MAX_REQUEST_BYTES)}` });
  }
  return issues.length ? { issues } : { images, issues };
}

async function resolveLocal(ref: string, ctx: RefContext): Promise<{ path: string; sha256: string; mimeType: string; bytes: number } | { message: string }> {
  const path = isAbsolute(ref) ? resolve(ref) : resolve(ctx.baseDir, ref);
  const mimeType = mimeTypeForPath(path);
  if (!mimeType) return { message: `unsupported image type "${extname(path) || '(none)'}" (use png, jpg, jpeg or webp)` };
  if (!ctx.allowOutsideRefs && !inside(ctx.baseDir, path)) return { message: `${ref} is outside ${ctx.baseDir} (--allow-outside-refs or allowOutsideRefs: true permits it)` };
  let st;
  try {
    st = await stat(path);
  } catch {
    return { message: `reference image not found: ${ref}` };
  }
  if (!st.isFile()) return { message: `reference image is not a file: ${ref}` };
  // A symlink inside baseDir may point anywhere: confine the real path too.
  if (!ctx.allowOutsideRefs) {
    const [realBase, realFile] = await Promise.all([realpath(ctx.baseDir).catch(() => ctx.baseDir), realpath(path)]);
    if (!inside(realBase, realFile)) return { message: `${ref} links outside ${ctx.baseDir} (--allow-outside-refs or allowOutsideRefs: true permits it)` };
  }
  if (st.size > MAX_REF_BYTES) return { message: `reference image is ${st.size} bytes; the limit is ${MAX_REF_BYTES} bytes (${mb(MAX_REF_BYTES)}) per image` };
  const cached = ctx.memo.get(path);
  if (cached && cached.bytes === st.size && cached.mtimeMs === st.mtimeMs) return { path, sha256: cached.sha256, mimeType, bytes: st.size };
  const { sha256, head } = await hashFile(path, ctx.signal);
  // The name is not the content: a text file named .png would be sent, refused and paid for as a failure.
  if (sniffImage(head) === undefined) return { message: `${ref} is not an image (its first bytes are not PNG, JPEG, WebP or HEIC)` };
  if (ctx.memo.size >= MEMO_LIMIT) ctx.memo.clear();
  ctx.memo.set(path, { sha256, bytes: st.size, mtimeMs: st.mtimeMs });
  return { path, sha256, mimeType, bytes: st.size };
}

export function inside(dir: string, p: string): boolean {
  const d = resolve(dir);
  const r = resolve(p);
  return r.startsWith(d.endsWith(sep) ? d : d + sep);
}

/** The file's sha256 and its first bytes (enough to tell an image format), in one read. */
async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; head: Uint8Array }> {
  const h = createHash('sha256');
  let head = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { signal })) {
    if (head.length < MAGIC_BYTES) head = Buffer.concat([head, (chunk as Buffer).subarray(0, MAGIC_BYTES - head.length)]);
    h.update(chunk as Buffer);
  }
  return { sha256: h.digest('hex'), head };
}

function mb(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Reference image bytes at request time (local path or http(s) URL): one reader for streaming and batch modes. URLs
 * come through the run's RemoteRefs (capped, deadline, once per run); one whose bytes no longer match the sha256 the
 * job was keyed with fails the job rather than send other content under the old key.
 */
export async function loadReferences(job: Job, remote: RemoteRefs, signal?: AbortSignal): Promise<ImageData[]> {
  const out: ImageData[] = [];
  for (const ref of job.images ?? []) {
    const mimeType = ref.mimeType ?? 'image/png';
    if (/^https?:\/\//i.test(ref.path)) {
      const d = await remote.get(ref.path, signal);
      if (ref.sha256 !== undefined && ref.sha256 !== d.sha256) {
        throw new ReferenceFetchError(ref.path, 'invalid_request', 'changed while the run was going (its sha256 differs from the one the job was keyed with)');
      }
      out.push({ data: d.data, mimeType: d.mimeType });
    } else {
      try {
        out.push({ data: await readFile(ref.path, { signal }), mimeType });
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        throw new StorageError(ref.path, `cannot read reference image ${ref.path}: ${(e as Error).message}`, { cause: e });
      }
    }
  }
  return out;
}
