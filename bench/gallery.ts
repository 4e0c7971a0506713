// Gallery at scale (issue 13): writeGallery() for N synthetic jobs, then the page opened from file:// in Debian's
// Chromium (playwright-core), as a user would. Per N: the time to write it, its size, the time from navigation to
// the first card (performance.now() in the page, which counts from navigation start), and the page's JS heap and
// DOM node count after load and again after a sort, a search and ten pages. Loads of every N are interleaved, so
// machine load hits them alike; medians. `--base DIR` also runs the gallery of another checkout (the old one-file
// page) on the sizes it can manage, for before/after side by side.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { fmt, markdownTable, mb, median } from './lib/stats.ts';

const CHROMIUM = '/usr/bin/chromium';

interface Variant {
  label: string;
  /** Module exporting writeGallery(dir). */
  module: string;
  sizes: number[];
}

export interface GalleryRow {
  label: string;
  n: number;
  writeS: number;
  htmlMb: number;
  dataMb: number;
  firstCardMs: number[];
  heapMb: number;
  nodes: number;
  heapAfterMb: number;
  nodesAfter: number;
}

async function makeFolder(n: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `imagebatch-gallery-bench-${n}-`));
  for (let c = 0; c < 4; c++) {
    const img = new PNG({ width: 64, height: 64 });
    for (let i = 0; i < img.data.length; i += 4) img.data.set([c * 60, 255 - c * 60, 120, 255], i);
    await writeFile(join(dir, `img-${c}.png`), PNG.sync.write(img));
  }
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const failed = i % 17 === 5;
    lines.push(
      JSON.stringify({
        v: 1,
        key: `k${i}`,
        index: i,
        prompt: `a watercolour study of object number ${i}, with soft light and a quiet background, ${i % 7 === 0 ? 'in winter' : 'in spring'}`,
        status: failed ? 'failed' : 'succeeded',
        ...(failed ? { reason: i % 2 ? 'blocked' : 'server', message: 'The model is overloaded.' } : {}),
        files: failed ? [] : [{ path: `img-${i % 4}.png`, bytes: 1000, sha256: '0'.repeat(64), mimeType: 'image/png' }],
        attempts: 1 + (i % 3),
        model: i % 5 ? 'gemini-2.5-flash-image' : 'gemini-3-pro-image-preview',
        latencyMs: 5000 + ((i * 7919) % 20000),
        costUsd: failed ? 0 : 0.039,
        finishedAt: '2026-12-01T12:00:00.000Z',
      }),
    );
  }
  await writeFile(join(dir, 'manifest.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const name of await readdir(path)) total += await sizeOf(join(path, name));
  return total;
}

async function openOnce(browser: Browser, index: string, exercise: boolean) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics: m } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    const get = (name: string) => m.find((x) => x.name === name)?.value ?? Number.NaN;
    return { heapMb: mb(get('JSHeapUsedSize')), nodes: get('Nodes') };
  };
  await page.goto(pathToFileURL(index).href, { waitUntil: 'commit', timeout: 120_000 });
  await page.waitForSelector('main .card', { timeout: 120_000 });
  const firstCardMs = await page.evaluate(() => performance.now());
  await page.waitForLoadState('load', { timeout: 120_000 });
  const loaded = await metrics();
  let after = { heapMb: Number.NaN, nodes: Number.NaN };
  if (exercise && (await page.locator('#sort').count()) > 0) {
    const info = () => page.textContent('#page-info');
    await page.selectOption('#sort', 'latency-desc');
    await page.waitForFunction(() => !document.querySelector('main')?.hasAttribute('aria-busy'), undefined, { timeout: 120_000 });
    await page.click('h1'); // keys go to the page, not to the focused <select>
    for (let i = 0; i < 10 && !(await page.isDisabled('#page-next')); i++) {
      const before = await info();
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction((b) => document.getElementById('page-info')?.textContent !== b && !document.querySelector('main')?.hasAttribute('aria-busy'), before, { timeout: 120_000 });
    }
    await page.fill('#search', 'in winter');
    await page.waitForFunction(() => !document.querySelector('main')?.hasAttribute('aria-busy') && /of /.test(document.getElementById('page-info')?.textContent ?? ''), undefined, { timeout: 120_000 });
    await page.waitForTimeout(400);
    await page.waitForFunction(() => !document.querySelector('main')?.hasAttribute('aria-busy'), undefined, { timeout: 120_000 });
    after = await metrics();
  }
  await context.close();
  return { firstCardMs, ...loaded, after };
}

export async function runGalleryBench(o: { variants: Variant[]; loads: number; log: (l: string) => void }): Promise<GalleryRow[]> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const rows: GalleryRow[] = [];
  const folders: string[] = [];
  try {
    for (const v of o.variants) {
      const { writeGallery } = (await import(v.module)) as { writeGallery: (dir: string) => Promise<string> };
      for (const n of v.sizes) {
        const dir = await makeFolder(n);
        folders.push(dir);
        const t0 = performance.now();
        await writeGallery(dir);
        const writeS = (performance.now() - t0) / 1000;
        rows.push({ label: v.label, n, writeS, htmlMb: mb(await sizeOf(join(dir, 'index.html'))), dataMb: mb(await sizeOf(join(dir, 'gallery'))), firstCardMs: [], heapMb: 0, nodes: 0, heapAfterMb: Number.NaN, nodesAfter: Number.NaN });
        o.log(`gallery ${v.label} ${n}: written in ${fmt(writeS, 1)} s`);
      }
    }
    // A first load warms Chromium up (its first page pays for process start-up); not counted.
    if (rows.length > 0) await openOnce(browser, join(folders[0]!, 'index.html'), false);
    // Interleaved: every row's k-th load happens in the same round.
    for (let k = 0; k < o.loads; k++) {
      for (const [i, row] of rows.entries()) {
        const r = await openOnce(browser, join(folders[i]!, 'index.html'), k === 0);
        row.firstCardMs.push(r.firstCardMs);
        if (k === 0) Object.assign(row, { heapMb: r.heapMb, nodes: r.nodes, heapAfterMb: r.after.heapMb, nodesAfter: r.after.nodes });
        o.log(`  load ${k + 1}: ${row.label} ${row.n}: first card after ${fmt(r.firstCardMs, 0)} ms, heap ${fmt(r.heapMb, 1)} MB, ${r.nodes} nodes`);
      }
    }
  } finally {
    await browser.close();
    for (const d of folders) await rm(d, { recursive: true, force: true });
  }
  return rows;
}

export function galleryTable(rows: GalleryRow[]): string {
  const base = new Map<string, number>();
  for (const r of rows) if (!base.has(r.label)) base.set(r.label, median(r.firstCardMs));
  return markdownTable(
    ['gallery', 'jobs', 'write (s)', 'index.html (MB)', 'gallery/ (MB)', 'first card (ms, median)', 'loads', '÷ smallest N, same gallery', 'JS heap after load (MB)', 'DOM nodes', 'JS heap after sort + 10 pages + search (MB)', 'DOM nodes after'],
    rows.map((r) => [
      r.label,
      String(r.n),
      fmt(r.writeS, 1),
      fmt(r.htmlMb, 2),
      fmt(r.dataMb, 1),
      fmt(median(r.firstCardMs), 0),
      r.firstCardMs.map((x) => fmt(x, 0)).join(' / '),
      fmt(median(r.firstCardMs) / base.get(r.label)!, 2),
      fmt(r.heapMb, 1),
      String(r.nodes),
      fmt(r.heapAfterMb, 1),
      Number.isFinite(r.nodesAfter) ? String(r.nodesAfter) : '—',
    ]),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { base: { type: 'string' }, loads: { type: 'string', default: '3' }, sizes: { type: 'string', default: '1000,100000' }, 'base-sizes': { type: 'string', default: '1000,20000' } } });
  const sizes = values.sizes!.split(',').map(Number);
  const variants: Variant[] = [{ label: 'this checkout', module: new URL('../src/report/gallery.ts', import.meta.url).href, sizes }];
  if (values.base) variants.push({ label: `base (${values.base})`, module: pathToFileURL(join(values.base, 'src/report/gallery.ts')).href, sizes: values['base-sizes']!.split(',').map(Number) });
  const rows = await runGalleryBench({ variants, loads: Number(values.loads), log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${galleryTable(rows)}\n`);
}
