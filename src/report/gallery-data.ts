// The gallery's job data, as small JS files next to index.html (in GALLERY_DATA_DIR), so that a 100,000-job
// gallery opens as fast as a 100-job one: the page is a shell with the first page of cards, and its script loads
// only what the user looks at. JS files (not JSON) because a page opened from file:// may load a <script src>,
// but not fetch() a file. Every file calls one global function with data serialised by jsonForScript.
//
//   jobs-NNNNN.js     imagebatchGallery.jobs(k, [card…])      CHUNK_JOBS cards each, in index order
//   columns.js        imagebatchGallery.columns({…})          status, reason, model, latency, cost of every job
//   prompts-NNN.js    imagebatchGallery.prompts(k, [text…])   PROMPT_CHUNK prompts each, scanned by a search
//
// columns.js is a few bytes per job and loaded on the first filter or sort; prompts are scanned and dropped.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors.ts';
import type { ManifestEntry, ManifestFile } from '../storage/manifest.ts';
import { GALLERY_DATA_DIR, isGalleryDataFile } from '../storage/output.ts';
import type { FailureReason } from '../types.ts';
import { formatMs, formatUsd, jsonForScript } from './format.ts';

export { GALLERY_DATA_DIR };
/** Cards per jobs file: a page sorted by latency may need one file per card, so files are small. */
export const CHUNK_JOBS = 100;
/** Prompts per search file. */
export const PROMPT_CHUNK = 5000;

/** One card as the page's script renders it: display strings made here, once. */
export interface GalleryCard {
  /** Job index. */
  i: number;
  /** 'succeeded' | 'failed'. */
  s: 'succeeded' | 'failed';
  /** Failure reason (`blocked`), and as shown on the card (`blocked: IMAGE_SAFETY (HTTP 400)`); empty when it succeeded. */
  rk: string;
  r: string;
  p: string;
  /** Server message and text parts. */
  m: string;
  t: string;
  /** Safe relative hrefs of the images (the first is the thumbnail). */
  f: string[];
  /** The first image's manifest path, shown as text. */
  fp: string;
  /** Alt text. */
  alt: string;
  a: number;
  md: string;
  /** Latency and cost, formatted. */
  l: string;
  c: string;
}

export function reasonOf(e: ManifestEntry): FailureReason | 'unknown' {
  return e.reason ?? 'unknown';
}

/**
 * A relative URL for a manifest path, or undefined for anything that could leave the folder
 * (absolute, `..`, backslashes). Segments are percent-encoded, so `:` cannot start a scheme.
 */
export function hrefOf(f: ManifestFile): string | undefined {
  const p = f.path;
  if (!p || p.startsWith('/') || p.includes('\\')) return undefined;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return parts.map(encodeURIComponent).join('/');
}

export function toCard(e: ManifestEntry): GalleryCard {
  const status = e.status === 'succeeded' ? 'succeeded' : 'failed';
  const reason = status === 'failed' ? reasonOf(e) : '';
  const files = e.files.filter((f) => hrefOf(f) !== undefined);
  return {
    i: Number(e.index),
    s: status,
    rk: reason,
    r: reason ? `${reason}${e.blockReason ? `: ${e.blockReason}` : ''}${e.httpStatus ? ` (HTTP ${e.httpStatus})` : ''}` : '',
    p: e.prompt,
    m: e.message ?? '',
    t: e.text?.length ? e.text.join(' ') : '',
    f: files.map((f) => hrefOf(f)!),
    fp: files[0]?.path ?? '',
    alt: e.prompt.length > 200 ? `${e.prompt.slice(0, 197)}...` : e.prompt,
    a: e.attempts,
    md: e.model,
    l: e.cached || e.from === 'cache' ? 'from cache' : formatMs(e.latencyMs),
    // No costUsd: billed at a price imagebatch does not know (a model newer than the registry).
    c: e.costUsd === undefined ? 'unknown price' : formatUsd(e.costUsd),
  };
}

/** Sort and filter keys of every job, as parallel arrays (a few bytes per job). */
export interface GalleryColumns {
  n: number;
  reasons: string[];
  models: string[];
  /** 1 succeeded, 0 failed. */
  status: number[];
  /** Index into reasons, -1 when it succeeded. */
  reason: number[];
  model: number[];
  /** ms; -1 for cache hits and unknown. */
  latency: number[];
  /** USD; -1 when unknown. */
  cost: number[];
}

export function columnsOf(jobs: readonly ManifestEntry[]): GalleryColumns {
  const reasons: string[] = [];
  const models: string[] = [];
  const id = (list: string[], v: string) => {
    let i = list.indexOf(v);
    if (i < 0) i = list.push(v) - 1;
    return i;
  };
  const c: GalleryColumns = { n: jobs.length, reasons, models, status: [], reason: [], model: [], latency: [], cost: [] };
  for (const e of jobs) {
    const ok = e.status === 'succeeded';
    c.status.push(ok ? 1 : 0);
    c.reason.push(ok ? -1 : id(reasons, reasonOf(e)));
    c.model.push(id(models, e.model));
    c.latency.push(e.cached || e.from === 'cache' || !(e.latencyMs >= 0) ? -1 : Math.round(e.latencyMs));
    c.cost.push(typeof e.costUsd === 'number' ? e.costUsd : -1);
  }
  return c;
}

const fileName = (kind: 'jobs' | 'prompts', k: number) => `${kind}-${String(k).padStart(kind === 'jobs' ? 5 : 3, '0')}.js`;

/** Every data file of a gallery: name → content. */
export function galleryDataFiles(jobs: readonly ManifestEntry[]): Map<string, string> {
  const files = new Map<string, string>();
  for (let k = 0; k * CHUNK_JOBS < jobs.length; k++) {
    const cards = jobs.slice(k * CHUNK_JOBS, (k + 1) * CHUNK_JOBS).map(toCard);
    files.set(fileName('jobs', k), `imagebatchGallery.jobs(${k},${jsonForScript(cards)});\n`);
  }
  for (let k = 0; k * PROMPT_CHUNK < jobs.length; k++) {
    const prompts = jobs.slice(k * PROMPT_CHUNK, (k + 1) * PROMPT_CHUNK).map((e) => e.prompt);
    files.set(fileName('prompts', k), `imagebatchGallery.prompts(${k},${jsonForScript(prompts)});\n`);
  }
  files.set('columns.js', `imagebatchGallery.columns(${jsonForScript(columnsOf(jobs))});\n`);
  return files;
}

/**
 * Writes the data files into a fresh folder and swaps it in for GALLERY_DATA_DIR (old files of a bigger run
 * never linger). The page is written after this, so a viewer opening it always finds its data.
 */
export async function writeGalleryData(dir: string, jobs: readonly ManifestEntry[], signal?: AbortSignal): Promise<void> {
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const fresh = join(dir, `.${GALLERY_DATA_DIR}.${tag}.tmp`);
  const old = join(dir, `.${GALLERY_DATA_DIR}.${tag}.old`);
  const target = join(dir, GALLERY_DATA_DIR);
  const foreign = (await readdir(target).catch(() => [] as string[])).filter((n) => !isGalleryDataFile(n));
  if (foreign.length > 0) throw new StorageError(target, `cannot write the gallery's data here: ${foreign.length} file(s) imagebatch did not write (e.g. ${foreign[0]}); move them away`);
  try {
    await mkdir(fresh);
    const files = [...galleryDataFiles(jobs)];
    // A few writes at a time: 1,000 files for 100,000 jobs.
    for (let i = 0; i < files.length; i += 16) {
      signal?.throwIfAborted();
      await Promise.all(files.slice(i, i + 16).map(([name, text]) => writeFile(join(fresh, name), text, { encoding: 'utf8', signal })));
    }
    await rename(target, old).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rename(fresh, target);
  } finally {
    await rm(fresh, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
