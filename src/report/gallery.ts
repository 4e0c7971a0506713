// A static, self-contained index.html for an output folder: no CDN, no request beyond the folder's own images,
// works from file://. Every piece of data (prompts, server messages, paths, the title) is HTML-escaped; the
// inline script receives its few settings as JSON with `<` escaped, and reads the rest from escaped attributes.
//
// Scale: all cards are rendered into the HTML (so the page is complete even without scripts), and the script
// paginates them, PAGE_SIZE at a time; hidden cards take no layout and their lazy images never load.
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { StorageError } from '../errors.ts';
import { readManifest } from '../storage/manifest.ts';
import type { ManifestEntry, ManifestFile } from '../storage/manifest.ts';
import type { FailureReason, RunSummary } from '../types.ts';
import { knownModel } from './cost.ts';
import { escapeHtml, formatBytes, formatMs, formatUsd, jsonForScript } from './format.ts';
import { GALLERY_CSS, GALLERY_JS, PAGE_SIZE } from './gallery-assets.ts';
import { latencyHistogramSvg } from './histogram.ts';
import { summarize } from './summary.ts';

export const GALLERY_CSP = "default-src 'none'; img-src 'self' data: file:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

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
  const html = renderGallery(latest.values(), summary, { title: options.title ?? `imagebatch gallery: ${basename(resolve(dir))}` });
  const target = join(dir, 'index.html');
  const tmp = join(dir, `.index.html.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
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

/** The whole page as a string. One card per job key (the last manifest line per key), in input order. */
export function renderGallery(entries: Iterable<ManifestEntry>, summary: RunSummary, options: RenderGalleryOptions = {}): string {
  const byKey = new Map<string, ManifestEntry>();
  for (const e of entries) byKey.set(e.key, e);
  const jobs = [...byKey.values()].sort((a, b) => a.index - b.index || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const title = options.title ?? 'imagebatch gallery';
  const counts = { all: jobs.length, succeeded: 0, failed: 0 };
  const reasons = new Map<string, number>();
  let unknownPrice = 0;
  for (const j of jobs) {
    counts[j.status]++;
    if (j.status === 'failed') reasons.set(reasonOf(j), (reasons.get(reasonOf(j)) ?? 0) + 1);
    if (!knownModel(j.model)) unknownPrice++;
  }
  const latencies = jobs.filter((j) => !j.cached && j.from !== 'cache' && j.latencyMs > 0).map((j) => j.latencyMs);
  const settings = { pageSize: PAGE_SIZE, title, jobs: jobs.length };
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
${renderSummary(summary, unknownPrice)}
${latencyHistogramSvg(latencies)}
</header>
<nav class="toolbar" id="filters" hidden aria-label="Filters">
${statusButton('all', `All (${counts.all})`)}
${statusButton('succeeded', `Succeeded (${counts.succeeded})`)}
${statusButton('failed', `Failed (${counts.failed})`)}
<label>Reason <select id="filter-reason"><option value="all">any</option>${[...reasons]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([r, n]) => `<option value="${escapeHtml(r)}">${escapeHtml(r)} (${n})</option>`)
    .join('')}</select></label>
<span class="spacer"></span>
<span id="pager" hidden><button type="button" id="page-prev">Previous</button> <span id="page-info"></span> <button type="button" id="page-next">Next</button></span>
</nav>
<main>
${jobs.map(renderCard).join('\n')}
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

function reasonOf(e: ManifestEntry): FailureReason | 'unknown' {
  return e.reason ?? 'unknown';
}

function renderSummary(s: RunSummary, unknownPrice: number): string {
  const reasons = Object.entries(s.byReason)
    .filter(([, n]) => n)
    .map(([r, n]) => `${escapeHtml(r)} ${Number(n)}`)
    .join(', ');
  const stat = (label: string, value: string) => `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`;
  const cost = formatUsd(s.costUsd) + (unknownPrice ? ` (+ ${unknownPrice} at unknown price)` : '');
  return (
    `<dl class="stats">` +
    stat('jobs', String(s.total)) +
    stat('succeeded', String(s.succeeded)) +
    stat('failed', String(s.failed)) +
    stat('skipped', String(s.skipped)) +
    stat('from cache', String(s.cached)) +
    stat('attempts', String(s.attempts)) +
    stat('wall time', formatMs(s.wallMs)) +
    stat('images/min', s.imagesPerMinute.toFixed(1)) +
    stat('avg image', formatBytes(s.averageImageBytes)) +
    stat('total cost', cost) +
    `</dl>` +
    (reasons ? `<p class="reasons">Failures by reason: ${reasons}</p>` : '') +
    (s.stoppedBy ? `<p class="stopped">Run stopped early: ${escapeHtml(s.stoppedBy)}</p>` : '')
  );
}

function renderCard(e: ManifestEntry): string {
  const status = e.status === 'succeeded' ? 'succeeded' : 'failed';
  const reason = status === 'failed' ? reasonOf(e) : '';
  const files = e.files.filter((f) => hrefOf(f) !== undefined);
  const first = files[0];
  const alt = e.prompt.length > 200 ? `${e.prompt.slice(0, 197)}...` : e.prompt;
  const thumb = first
    ? `<a class="thumb" href="${escapeHtml(hrefOf(first))}"><img loading="lazy" decoding="async" src="${escapeHtml(hrefOf(first))}" alt="${escapeHtml(alt)}"></a>`
    : `<div class="thumb empty">no image</div>`;
  const extra = files.length > 1 ? `<p class="extra">${files.slice(1).map((f, i) => `<a href="${escapeHtml(hrefOf(f))}">image ${i + 2}</a>`).join('')}</p>` : '';
  const reasonText = reason ? `${reason}${e.blockReason ? `: ${e.blockReason}` : ''}${e.httpStatus ? ` (HTTP ${e.httpStatus})` : ''}` : '';
  const cost = !knownModel(e.model) ? 'unknown price' : e.costUsd === undefined ? '—' : formatUsd(e.costUsd);
  const fact = (label: string, value: string) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`;
  return (
    `<article class="card s-${status}" data-status="${status}" data-reason="${escapeHtml(reason)}" data-index="${Number(e.index)}">` +
    thumb +
    `<div class="meta"><p class="prompt">${escapeHtml(e.prompt)}</p>` +
    `<p><span class="badge">${status}</span>${reasonText ? ` <span class="reason">${escapeHtml(reasonText)}</span>` : ''}</p>` +
    (e.message ? `<p class="msg">${escapeHtml(e.message)}</p>` : '') +
    (e.text?.length ? `<p class="msg">${escapeHtml(e.text.join(' '))}</p>` : '') +
    extra +
    `<dl class="facts">` +
    fact('#', String(e.index)) +
    fact('attempts', String(e.attempts)) +
    fact('latency', e.cached || e.from === 'cache' ? 'from cache' : formatMs(e.latencyMs)) +
    fact('cost', cost) +
    fact('model', e.model) +
    (first ? fact('file', first.path) : '') +
    `</dl></div></article>`
  );
}

/**
 * A relative URL for a manifest path, or undefined for anything that could leave the folder
 * (absolute, `..`, backslashes). Segments are percent-encoded, so `:` cannot start a scheme.
 */
function hrefOf(f: ManifestFile): string | undefined {
  const p = f.path;
  if (!p || p.startsWith('/') || p.includes('\\')) return undefined;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return parts.map(encodeURIComponent).join('/');
}
