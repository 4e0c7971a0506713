// The generated gallery in a real headless Chromium, opened by file:// URL as a user would open it.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { writeGallery } from '../../src/report/gallery.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE_PROMPT = '<script>window.__pwned = 1</script>"><img src=x onerror="window.__pwned=2;alert(1)">';
const HOSTILE_MESSAGE = '</script><script>window.__pwned = 3</script>';

const missing = !existsSync(CHROMIUM);
// A missing browser must not pass silently in CI; on a developer machine only this file is skipped, loudly.
const skip = missing && !process.env.CI ? `${CHROMIUM} not found: install it with apt-get install -y chromium` : undefined;
if (skip) console.error(`\n!!! SKIPPING the browser gallery test: ${skip} !!!\n`);

function png(r: number, g: number, b: number): Buffer {
  const img = new PNG({ width: 8, height: 8 });
  for (let i = 0; i < img.data.length; i += 4) img.data.set([r, g, b, 255], i);
  return PNG.sync.write(img);
}

function line(e: Partial<ManifestEntry> & Pick<ManifestEntry, 'key' | 'index' | 'prompt' | 'status'>): string {
  const full: ManifestEntry = { v: 1, files: [], attempts: 1, model: 'gemini-2.5-flash-image', latencyMs: 800 + e.index * 100, finishedAt: '2026-10-01T12:00:00.000Z', ...e };
  return `${JSON.stringify(full)}\n`;
}

async function makeFolder(root: string, name: string, extra: number): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'sub dir'), { recursive: true });
  const colors: [number, number, number][] = [[200, 30, 30], [30, 200, 30], [30, 30, 200]];
  let manifest = '';
  for (const [i, c] of colors.entries()) {
    const file = i === 2 ? `sub dir/000${i}-#blue?.png` : `000${i}-img.png`;
    await writeFile(join(dir, file), png(...c));
    const bytes = 100;
    manifest += line({ key: `k${i}`, index: i, prompt: i === 1 ? HOSTILE_PROMPT : `colour ${i}`, status: 'succeeded', files: [{ path: file, bytes, sha256: '0'.repeat(64), mimeType: 'image/png' }], costUsd: 0.039 });
  }
  manifest += line({ key: 'k3', index: 3, prompt: 'a forbidden thing', status: 'failed', reason: 'blocked', blockReason: 'IMAGE_SAFETY', message: HOSTILE_MESSAGE });
  manifest += line({ key: 'k4', index: 4, prompt: 'server trouble', status: 'failed', reason: 'server', message: '503 UNAVAILABLE', attempts: 5 });
  for (let i = 0; i < extra; i++) {
    const model = i % 10 === 0 ? 'gemini-3-pro-image-preview' : 'gemini-2.5-flash-image';
    manifest += line({ key: `x${i}`, index: 5 + i, prompt: `extra ${i}`, status: 'succeeded', model, files: [{ path: '0000-img.png', bytes: 100, sha256: '0'.repeat(64), mimeType: 'image/png' }], costUsd: 0.039 });
  }
  await writeFile(join(dir, 'manifest.jsonl'), manifest);
  return writeGallery(dir, { title: '<b>gallery</b> & "friends"' });
}

let root = '';
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'imagebatch-gallery-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

interface Watch {
  errors: string[];
  dialogs: string[];
  external: string[];
  /** Data files the page loaded (names under gallery/). */
  data: string[];
}

async function open(path: string): Promise<{ page: Page; watch: Watch }> {
  assert.ok(browser, 'browser not started');
  const page = await browser.newPage();
  const watch: Watch = { errors: [], dialogs: [], external: [], data: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') watch.errors.push(m.text());
  });
  page.on('pageerror', (e) => watch.errors.push(String(e)));
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) watch.external.push(r.url());
    const data = /\/gallery\/([^/]+\.js)$/.exec(r.url());
    if (data) watch.data.push(data[1]!);
  });
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  return { page, watch };
}

/** The page's script renders after loading data files: wait until the render a click started is on screen. */
const settled = (page: Page) => page.waitForFunction(() => !document.querySelector('main')?.hasAttribute('aria-busy'));
const visibleStatuses = async (page: Page) =>
  (await settled(page)) &&
  page.$$eval('main .card', (cards) => cards.filter((c) => !(c as HTMLElement).hidden).map((c) => c.getAttribute('data-status')));

test('gallery works from file:// in Chromium: cards, images under the CSP, filters, no script injection', { skip, timeout: 20_000 }, async () => {
  if (missing) assert.fail(`${CHROMIUM} is missing and CI is set: the browser test must run in CI`);
  const index = await makeFolder(root, 'small', 0);
  const { page, watch } = await open(index);

  assert.equal(await page.locator('main .card').count(), 5);
  assert.equal(await page.title(), '<b>gallery</b> & "friends"');
  // The inline script ran (CSP allows it): the filter bar is shown and every card is on page 1.
  assert.equal(await page.locator('#filters').isVisible(), true);
  assert.deepEqual(await visibleStatuses(page), ['succeeded', 'succeeded', 'succeeded', 'failed', 'failed']);
  // The thumbnails load from file:// under img-src (path with a space, '#' and '?' included).
  await page.waitForFunction(() => Array.from(document.images).every((i) => i.complete && i.naturalWidth === 8), undefined, { timeout: 5000 });
  assert.equal(await page.locator('main img').count(), 3);

  await page.click('[data-filter-status="failed"]');
  assert.deepEqual(await visibleStatuses(page), ['failed', 'failed']);
  assert.equal(await page.getAttribute('[data-filter-status="failed"]', 'aria-pressed'), 'true');
  await page.selectOption('#filter-reason', 'blocked');
  await settled(page);
  assert.equal(await page.locator('main .card:not([hidden])').getAttribute('data-reason'), 'blocked');
  await page.click('[data-filter-status="succeeded"]');
  assert.deepEqual(await visibleStatuses(page), ['succeeded', 'succeeded', 'succeeded']);
  await page.click('[data-filter-status="all"]');
  assert.equal((await visibleStatuses(page)).length, 5);

  // Hostile text is shown as text and never runs.
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  const prompts = await page.locator('.prompt').allTextContents();
  assert.ok(prompts.includes(HOSTILE_PROMPT), JSON.stringify(prompts));
  assert.ok((await page.locator('.msg').allTextContents()).includes(HOSTILE_MESSAGE));
  assert.equal(await page.locator('main .card[data-index="1"] .meta img').count(), 0);
  assert.deepEqual(watch.dialogs, []);
  assert.deepEqual(watch.external, []);
  assert.deepEqual(watch.errors, []);
  await page.close();
});

// The page-info line is written before the cards of a new selection have loaded: read the cards once it settled.
const indexes = async (page: Page) => {
  await settled(page);
  return page.$$eval('main .card', (cards) => cards.map((c) => Number(c.getAttribute('data-index'))));
};
const info = async (page: Page) => (await page.textContent('#page-info')) ?? '';

test('many jobs: one page of cards in the DOM, the others loaded in chunks as the user pages (buttons and keys)', { skip, timeout: 30_000 }, async () => {
  if (missing) assert.fail(`${CHROMIUM} is missing and CI is set: the browser test must run in CI`);
  const index = await makeFolder(root, 'many', 445); // 450 jobs: pages of 200, 200, 50; data files of 100
  const { page, watch } = await open(index);
  // Page 1 is in the HTML: no data file is needed to show it.
  assert.equal(await page.locator('main .card').count(), 200);
  assert.match(await info(page), /^1–200 of 450 \(page 1 of 3\)$/);
  assert.equal(watch.data.length, 0);
  await page.click('#page-next');
  await page.waitForFunction(() => document.querySelector('main .card')?.getAttribute('data-index') === '200');
  assert.deepEqual(await indexes(page), Array.from({ length: 200 }, (_, i) => 200 + i));
  assert.deepEqual(watch.data, ['jobs-00002.js', 'jobs-00003.js']);
  // Keyboard paging: → next, ← previous, Home first.
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.querySelectorAll('main .card').length === 50);
  assert.equal(await page.isDisabled('#page-next'), true);
  assert.deepEqual(watch.data.slice(2), ['jobs-00004.js']);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => document.querySelector('main .card')?.getAttribute('data-index') === '200');
  assert.deepEqual(watch.data.slice(3), [], 'chunks already loaded are kept');
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector('main .card')?.getAttribute('data-index') === '0');
  assert.equal(await page.locator('main .card').count(), 200);
  assert.equal(await page.locator('main .card[data-index="1"] .prompt').textContent(), HOSTILE_PROMPT, 'cards built by the script show text as text');
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.ok(!watch.data.includes('columns.js'), 'plain paging needs no columns');
  assert.deepEqual(watch.errors, []);
  assert.deepEqual(watch.external, []);
  await page.close();
});

test('search by prompt text, filter by status/reason/model and sort by latency over every job', { skip, timeout: 30_000 }, async () => {
  if (missing) assert.fail(`${CHROMIUM} is missing and CI is set: the browser test must run in CI`);
  const index = join(root, 'many', 'index.html');
  const { page, watch } = await open(index);
  await page.fill('#search', 'EXTRA 44');
  await page.waitForFunction(() => /of 6 /.test(document.getElementById('page-info')?.textContent ?? ''));
  // "extra 44" and "extra 440" … "extra 444": the jobs with index 49 and 445 … 449.
  assert.deepEqual(await indexes(page), [49, 445, 446, 447, 448, 449]);
  assert.ok(watch.data.includes('prompts-000.js'));
  await page.selectOption('#sort', 'latency-desc');
  await page.waitForFunction(() => document.querySelector('main .card')?.getAttribute('data-index') === '449');
  assert.deepEqual(await indexes(page), [449, 448, 447, 446, 445, 49]);
  await page.fill('#search', '');
  await page.waitForFunction(() => /of 450 /.test(document.getElementById('page-info')?.textContent ?? ''));
  assert.equal((await indexes(page))[0], 449, 'slowest first over every job');
  await page.selectOption('#sort', 'index');
  await page.selectOption('#filter-model', 'gemini-3-pro-image-preview');
  await page.waitForFunction(() => /of 45 /.test(document.getElementById('page-info')?.textContent ?? ''));
  assert.deepEqual((await indexes(page)).slice(0, 3), [5, 15, 25]);
  await page.selectOption('#filter-model', 'all');
  await page.click('[data-filter-status="failed"]');
  await page.waitForFunction(() => /of 2 /.test(document.getElementById('page-info')?.textContent ?? ''));
  assert.deepEqual(await visibleStatuses(page), ['failed', 'failed']);
  await page.selectOption('#filter-reason', 'blocked');
  await page.waitForFunction(() => /of 1 /.test(document.getElementById('page-info')?.textContent ?? ''));
  assert.equal(await page.locator('main .card').getAttribute('data-reason'), 'blocked');
  // '/' focuses the search box.
  await page.click('h1');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'search');
  assert.deepEqual(watch.errors, []);
  assert.deepEqual(watch.external, []);
  await page.close();
});
