// Output file names: readable, portable (Windows too) and unable to leave the output folder.
import { isAbsolute, resolve, sep } from 'node:path';
import { StorageError } from '../errors.ts';
import type { Job } from '../types.ts';

/** Letters NFKD does not decompose into ASCII. */
const EXTRA: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i', ŋ: 'ng' };
const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Lowercase ASCII `[a-z0-9-]`, accents transliterated, no leading/trailing '-', at most maxLength characters,
 * never empty ('image'), never a Windows reserved device name (suffix '-x'). Dots never survive, so no '.'/'..'.
 */
export function slugify(prompt: string, maxLength = 48): string {
  const max = Math.max(1, Math.floor(maxLength));
  // Only the head matters, and NFKD on a 100k-character prompt would be wasted work.
  const head = prompt.slice(0, max * 4).toLowerCase();
  // Printable ASCII (most prompts) is what the transliteration would give back unchanged: three passes saved.
  const ascii = PRINTABLE_ASCII.test(head)
    ? head
    : head
        .normalize('NFKD')
        .replace(/\p{M}+/gu, '')
        .replace(/[^\x20-\x7e]/g, (c) => EXTRA[c] ?? '-');
  let slug = ascii
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  if (slug === '') slug = 'image';
  if (RESERVED.test(slug)) slug = `${slug}-x`;
  return slug;
}

const EXT_BY_MIME: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

export function extensionFor(mimeType: string): string {
  return EXT_BY_MIME[mimeType.toLowerCase().split(';')[0]?.trim() ?? ''] ?? 'bin';
}

/** Longest stem taken from job.out. */
const OUT_MAX = 100;

/**
 * `<index padded to ≥4 digits>-<slug>[-v<variant>][-<n> when imageCount > 1].<ext>`. `job.out` replaces the slug
 * (same sanitising); the index prefix stays, so names never collide between jobs of one run.
 */
export function imageFileName(job: Pick<Job, 'index' | 'prompt' | 'out' | 'variant'>, imageNumber: number, imageCount: number, mimeType: string): string {
  const index = Number.isInteger(job.index) && job.index >= 0 ? job.index : 0;
  const stem = job.out !== undefined && job.out.trim() !== '' ? slugify(job.out, OUT_MAX) : slugify(job.prompt);
  const variant = job.variant !== undefined ? `-v${job.variant}` : '';
  const n = imageCount > 1 ? `-${imageNumber}` : '';
  return `${String(index).padStart(4, '0')}-${stem}${variant}${n}.${extensionFor(mimeType)}`;
}

/** Joins a relative name onto dir and proves the result stays inside it (throws StorageError otherwise). */
export function confinedPath(dir: string, name: string): string {
  const root = resolvedRoot(dir);
  // A plain file name (no separator, not a dot name) cannot leave the folder: joined as it is, without a resolve.
  // Every image of a run takes this path; anything else gets the full check.
  if (PLAIN_NAME.test(name)) return root.endsWith(sep) ? root + name : root + sep + name;
  const p = resolve(root, name);
  if (!p.startsWith(root.endsWith(sep) ? root : root + sep)) throw new StorageError(p, `refusing to write outside ${root}: ${name}`);
  return p;
}

const PLAIN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** The last absolute folder resolved: a run asks for the same one for every file it writes. A relative one depends on the working directory, so it is resolved each time. */
let lastDir: string | undefined;
let lastRoot = '';
function resolvedRoot(dir: string): string {
  if (!isAbsolute(dir)) return resolve(dir);
  if (dir !== lastDir) {
    lastRoot = resolve(dir);
    lastDir = dir;
  }
  return lastRoot;
}
