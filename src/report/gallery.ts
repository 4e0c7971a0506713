// A static index.html for an output folder: no CDN, no request beyond the folder's own files, works from file://.
// Every piece of data (prompts, server messages, paths, the title) is HTML-escaped; the inline script receives its
// settings as JSON with `<` escaped, and renders cards with DOM text nodes only.
//
// Scale: the page holds the first PAGE_SIZE cards (so it opens at once, and is useful without scripts) and the
// job data lives in small JS files next to it (gallery-data.ts), loaded as the user pages, filters, sorts or
// searches: the first render does not grow with the run, and the page keeps one page of cards in its DOM.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { StorageError } from '../errors.ts';
import { readManifest } from '../storage/manifest.ts';
import type { ManifestEntry } from '../storage/manifest.ts';
import type { RunSummary } from '../types.ts';
import { describeLines, escapeHtml, formatBytes, formatCost, formatMs, jsonForScript } from './format.ts';
import { GALLERY_CSS, GALLERY_JS, PAGE_SIZE } from './gallery-assets.ts';
import { CHUNK_JOBS, GALLERY_DATA_DIR, PROMPT_CHUNK, reasonOf, toCard, writeGalleryData } from './gallery-data.ts';
import { latencyHistogramSvg } from './histogram.ts';
import { summarize } from './summary.ts';

/**
 * Inline script: only the gallery's own, by its hash (no 'unsafe-inline'); external scripts: the data files next to
 * the page ('self' when served over HTTP; Chromium gives file:// pages an opaque origin, so `file:` as well).
 */
export const GALLERY_CSP = `default-src 'none'; img-src 'self' data: file:; style-src 'unsafe-inline'; script-src 'self' file: 'sha256-${createHash('sha256').update(GALLERY_JS, 'utf8').digest('base64')}'`;

export interface RenderGalleryOptions {
  /** Page title and heading. @default 'imagebatch gallery' */
  title?: string;
}

export interface WriteGalleryOptions extends RenderGalleryOptions {
  /** Aborts reading the manifest and writing the page. @default undefined */
  signal?: AbortSignal;
}

/**
 * Reads `manifest.jsonl` (and `summary.json` when present) in `dir` and writes `index.html` there atomically
 * (temp file + rename, so a viewer never sees half a page). Returns the page's path.
 */
export async function writeGallery(dir: string, options: WriteGalleryOptions = {}): Promise<string> {
  const { signal } = options;
  const latest = new Map<string, ManifestEntry>();
  let firstStart = Infinity;
  let lastEnd = -Infinity;
  for await (const e of readManifest(dir, { signal })) {
    latest.set(e.key, e);
    const end = Date.parse(e.finishedAt);
    if (Number.isFinite(end)) {
      lastEnd = Math.max(lastEnd, end);
      firstStart = Math.min(firstStart, end - (e.latencyMs || 0));
    }
  }
  signal?.throwIfAborted();
  const summary =
    (await readSummaryFile(dir)) ??
    (await summarize(readManifest(dir, { signal }), { wallMs: lastEnd > firstStart ? lastEnd - firstStart : 0 }));
  const jobs = sortJobs(latest.values());
  const html = renderGallery(jobs, summary, { title: options.title ?? `imagebatch gallery: ${basename(resolve(dir))}` });
  const target = join(dir, 'index.html');
  const tmp = join(dir, `.index.html.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeGalleryData(dir, jobs, signal);
    await writeFile(tmp, html, { encoding: 'utf8', signal });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    if (signal?.aborted) throw err;
    throw new StorageError(target, `cannot write the gallery: ${(err as Error).message}`, { cause: err });
  }
  return target;
}

/** summary.json as written at the end of a run; ignored when missing or not summary-shaped. */
async function readSummaryFile(dir: string): Promise<RunSummary | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const s = parsed as Record<string, unknown>;
  const numeric = ['total', 'succeeded', 'failed', 'skipped', 'attempts', 'wallMs', 'imagesPerMinute', 'costUsd'];
  if (!numeric.every((k) => typeof s[k] === 'number')) return undefined;
  const summary = s as unknown as RunSummary;
  return {
    ...summary,
    cached: typeof s.cached === 'number' ? s.cached : 0,
    averageImageBytes: typeof s.averageImageBytes === 'number' ? s.averageImageBytes : 0,
    byReason: typeof s.byReason === 'object' && s.byReason !== null ? summary.byReason : {},
  };
}

/** One entry per job key (the last manifest line per key), in input order: the order of cards and data files. */
function sortJobs(entries: Iterable<ManifestEntry>): ManifestEntry[] {
  const byKey = new Map<string, ManifestEntry>();
  for (const e of entries) byKey.set(e.key, e);
  return [...byKey.values()].sort((a, b) => a.index - b.index || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The page (the shell with the first page of cards). One card per job key (the last manifest line per key), in
 * input order; the other pages come from the data files writeGallery() writes next to it.
 */
export function renderGallery(entries: Iterable<ManifestEntry>, summary: RunSummary, options: RenderGalleryOptions = {}): string {
  const jobs = sortJobs(entries);
  const title = options.title ?? 'imagebatch gallery';
  const counts = { all: jobs.length, succeeded: 0, failed: 0 };
  const reasons = new Map<string, number>();
  const models = new Map<string, number>();
  for (const j of jobs) {
    counts[j.status]++;
    if (j.status === 'failed') reasons.set(reasonOf(j), (reasons.get(reasonOf(j)) ?? 0) + 1);
    models.set(j.model, (models.get(j.model) ?? 0) + 1);
  }
  const latencies = jobs.filter((j) => !j.cached && j.from !== 'cache' && j.latencyMs > 0).map((j) => j.latencyMs);
  const settings = { pageSize: PAGE_SIZE, title, jobs: jobs.length, chunkJobs: CHUNK_JOBS, promptChunk: PROMPT_CHUNK, dataDir: GALLERY_DATA_DIR };
  const options_ = (m: Map<string, number>) =>
    [...m]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([r, n]) => `<option value="${escapeHtml(r)}">${escapeHtml(r)} (${n})</option>`)
      .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(GALLERY_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${GALLERY_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
${renderSummary(summary)}
${latencyHistogramSvg(latencies)}
</header>
<nav class="toolbar" id="filters" hidden aria-label="Filters">
${statusButton('all', `All (${counts.all})`)}
${statusButton('succeeded', `Succeeded (${counts.succeeded})`)}
${statusButton('failed', `Failed (${counts.failed})`)}
<label>Reason <select id="filter-reason"><option value="all">any</option>${options_(reasons)}</select></label>
<label>Model <select id="filter-model"><option value="all">any</option>${options_(models)}</select></label>
<label>Sort <select id="sort"><option value="index">by index</option><option value="latency-desc">slowest first</option><option value="latency-asc">fastest first</option><option value="cost-desc">most expensive first</option><option value="cost-asc">cheapest first</option></select></label>
<input type="search" id="search" placeholder="Search prompts (/)" aria-label="Search prompts">
<span class="spacer"></span>
<span id="pager" hidden><button type="button" id="page-prev">Previous</button> <span id="page-info"></span> <button type="button" id="page-next">Next</button></span>
</nav>
<noscript><p class="muted">Without JavaScript only the first ${PAGE_SIZE} jobs are shown; every job is in manifest.jsonl.</p></noscript>
<main>
${jobs.slice(0, PAGE_SIZE).map(renderCard).join('\n')}
</main>
<footer>Made by imagebatch. Costs are estimates from the model registry (src/models/registry.ts).</footer>
<script type="application/json" id="gallery-data">${jsonForScript(settings)}</script>
<script>${GALLERY_JS}</script>
</body>
</html>
`;
}

function statusButton(value: string, label: string): string {
  return `<button type="button" data-filter-status="${escapeHtml(value)}" aria-pressed="${value === 'all'}">${escapeHtml(label)}</button>`;
}

function renderSummary(s: RunSummary): string {
  const reasons = Object.entries(s.byReason)
    .filter(([, n]) => n)
    .map(([r, n]) => `${escapeHtml(r)} ${Number(n)}`)
    .join(', ');
  const stat = (label: string, value: string) => `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`;
  // Lines billed at a price imagebatch does not know (a model newer than the registry) are said, never shown as $0.
  const cost = s.folder ? formatCost(s.folder.costUsd, s.folder.unpriced) : formatCost(s.costUsd, s.unpriced);
  return (
    `<dl class="stats">` +
    // The cards are the whole folder, so the counts next to them are too (summary.folder), not one run's input.
    stat('jobs', String(s.folder?.jobs ?? s.total)) +
    stat('succeeded', String(s.folder?.succeeded ?? s.succeeded)) +
    stat('failed', String(s.folder?.failed ?? s.failed)) +
    stat('skipped', String(s.skipped)) +
    stat('from cache', String(s.cached)) +
    stat('attempts', String(s.attempts)) +
    stat('wall time', formatMs(s.wallMs)) +
    stat('images/min', s.imagesPerMinute.toFixed(1)) +
    stat('avg image', formatBytes(s.averageImageBytes)) +
    stat('total cost', cost) +
    `</dl>` +
    (reasons ? `<p class="reasons">Failures by reason: ${reasons}</p>` : '') +
    (s.run ? `<p class="run">Last run: ${s.run.succeeded} saved, ${s.run.failed} failed, ${s.skipped} already done (of its ${s.total} jobs)</p>` : '') +
    (s.folder?.damaged ? `<p class="damaged">${s.folder.damaged} damaged manifest line(s) skipped (${escapeHtml(describeLines(s.folder.damagedLines ?? [], s.folder.damaged))})</p>` : '') +
    (s.stoppedBy ? `<p class="stopped">Run stopped early: ${escapeHtml(s.stoppedBy)}</p>` : '')
  );
}

/** A card in HTML, for the first page; the page's script builds the same markup with DOM calls (GALLERY_JS). */
function renderCard(e: ManifestEntry): string {
  const c = toCard(e);
  const thumb = c.f[0]
    ? `<a class="thumb" href="${escapeHtml(c.f[0])}"><img loading="lazy" decoding="async" src="${escapeHtml(c.f[0])}" alt="${escapeHtml(c.alt)}"></a>`
    : `<div class="thumb empty">no image</div>`;
  const extra = c.f.length > 1 ? `<p class="extra">${c.f.slice(1).map((f, i) => `<a href="${escapeHtml(f)}">image ${i + 2}</a>`).join('')}</p>` : '';
  const fact = (label: string, value: string) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`;
  return (
    `<article class="card s-${c.s}" data-status="${c.s}" data-reason="${escapeHtml(c.rk)}" data-index="${c.i}">` +
    thumb +
    `<div class="meta"><p class="prompt">${escapeHtml(c.p)}</p>` +
    `<p><span class="badge">${c.s}</span>${c.r ? ` <span class="reason">${escapeHtml(c.r)}</span>` : ''}</p>` +
    (c.m ? `<p class="msg">${escapeHtml(c.m)}</p>` : '') +
    (c.t ? `<p class="msg">${escapeHtml(c.t)}</p>` : '') +
    extra +
    `<dl class="facts">` +
    fact('#', String(c.i)) +
    fact('attempts', String(c.a)) +
    fact('latency', c.l) +
    fact('cost', c.c) +
    fact('model', c.md) +
    (c.fp ? fact('file', c.fp) : '') +
    `</dl></div></article>`
  );
}
