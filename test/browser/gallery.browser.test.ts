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
    manifest += line({ key: `x${i}`, index: 5 + i, prompt: `extra ${i}`, status: 'succeeded', files: [{ path: '0000-img.png', bytes: 100, sha256: '0'.repeat(64), mimeType: 'image/png' }], costUsd: 0.039 });
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
}

async function open(path: string): Promise<{ page: Page; watch: Watch }> {
  assert.ok(browser, 'browser not started');
  const page = await browser.newPage();
  const watch: Watch = { errors: [], dialogs: [], external: [] };
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
  });
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  return { page, watch };
}

const visibleStatuses = (page: Page) =>
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

test('many cards are paginated and filters page through the matching ones', { skip, timeout: 20_000 }, async () => {
  if (missing) assert.fail(`${CHROMIUM} is missing and CI is set: the browser test must run in CI`);
  const index = await makeFolder(root, 'many', 445); // 450 cards: pages of 200, 200, 50
  const { page, watch } = await open(index);
  assert.equal(await page.locator('main .card').count(), 450);
  assert.equal(await page.locator('main .card:not([hidden])').count(), 200);
  assert.match((await page.textContent('#page-info')) ?? '', /^1–200 of 450 \(page 1 of 3\)$/);
  await page.click('#page-next');
  await page.click('#page-next');
  assert.equal(await page.locator('main .card:not([hidden])').count(), 50);
  assert.equal(await page.isDisabled('#page-next'), true);
  await page.click('[data-filter-status="failed"]');
  assert.equal(await page.locator('main .card:not([hidden])').count(), 2);
  assert.match((await page.textContent('#page-info')) ?? '', /page 1 of 1/);
  assert.deepEqual(watch.errors, []);
  await page.close();
});
