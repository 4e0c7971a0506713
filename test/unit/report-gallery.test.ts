import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderGallery, writeGallery, GALLERY_CSP } from '../../src/report/gallery.ts';
import { CHUNK_JOBS, GALLERY_DATA_DIR, PROMPT_CHUNK, galleryDataFiles } from '../../src/report/gallery-data.ts';
import type { GalleryCard, GalleryColumns } from '../../src/report/gallery-data.ts';
import { PAGE_SIZE } from '../../src/report/gallery-assets.ts';
import { escapeHtml, jsonForScript } from '../../src/report/format.ts';
import { latencyBins, latencyHistogramSvg } from '../../src/report/histogram.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';
import type { RunSummary } from '../../src/types.ts';

const HOSTILE = [
  '<script>window.__pwned = 1</script>',
  '"><img src=x onerror="window.__pwned=1">',
  "'><svg onload=alert(1)>",
  '</script><script>alert(1)</script>',
  '`${alert(1)}` & &amp; <!-- -->',
];

function entry(i: number, over: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    v: 1,
    key: `key-${i}`,
    index: i,
    prompt: `a prompt number ${i}`,
    status: 'succeeded',
    files: [{ path: `${String(i).padStart(4, '0')}-a-prompt.png`, bytes: 100, sha256: '0'.repeat(64), mimeType: 'image/png' }],
    attempts: 1,
    model: 'gemini-2.5-flash-image',
    latencyMs: 1000 + i * 10,
    costUsd: 0.039,
    finishedAt: '2026-10-01T12:00:00.000Z',
    ...over,
  };
}

const summary: RunSummary = {
  total: 3,
  succeeded: 2,
  failed: 1,
  skipped: 0,
  cached: 0,
  byReason: { blocked: 1 },
  attempts: 3,
  wallMs: 61_000,
  imagesPerMinute: 1.97,
  averageImageBytes: 2048,
  costUsd: 0.078,
};

const cards = (html: string) => html.match(/<article class="card/g)?.length ?? 0;
/** Text between the opening <body> and </body>, minus the gallery's own inline script. */
const dataPart = (html: string) => html.replace(/<script>[\s\S]*?<\/script>\s*<\/body>/, '</body>');

describe('renderGallery', () => {
  test('one card per job, the last manifest line per key, in input order', () => {
    const html = renderGallery(
      [entry(2), entry(0, { status: 'failed', reason: 'quota', files: [] }), entry(1), entry(0)],
      summary,
    );
    assert.equal(cards(html), 3);
    const order = [...html.matchAll(/data-index="(\d+)"/g)].map((m) => m[1]);
    assert.deepEqual(order, ['0', '1', '2']);
    assert.ok(!html.includes('data-reason="quota"'), 'superseded failure must not be shown');
  });

  test('hostile prompts, messages, paths and titles are escaped everywhere', () => {
    const entries = HOSTILE.map((p, i) =>
      entry(i, {
        prompt: p,
        status: i % 2 ? 'failed' : 'succeeded',
        reason: i % 2 ? 'blocked' : undefined,
        blockReason: i % 2 ? p : undefined,
        message: p,
        text: [p],
        model: p,
        files: i % 2 ? [] : [{ path: `dir/${p}.png`, bytes: 1, sha256: '0', mimeType: 'image/png' }],
      }),
    );
    const html = renderGallery(entries, { ...summary, stoppedBy: HOSTILE[0] }, { title: HOSTILE[3] });
    assert.equal(cards(html), HOSTILE.length);
    const data = dataPart(html);
    // Only the page's own two script tags exist.
    assert.equal(html.match(/<script/gi)?.length, 2);
    assert.equal(data.match(/<script/gi)?.length, 1); // the JSON block
    assert.ok(!/<img[^>]*onerror/i.test(data));
    assert.ok(!/<svg[^>]*onload/i.test(data));
    assert.ok(!/<img src=x/i.test(data));
    // Shown as text: the escaped prompt appears in the card.
    assert.ok(data.includes(`<p class="prompt">${escapeHtml(HOSTILE[0])}</p>`));
    assert.ok(data.includes('&lt;script&gt;window.__pwned = 1&lt;/script&gt;'));
    assert.ok(data.includes('<p class="prompt">&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;</p>'));
    assert.ok(data.includes('alt="&lt;script&gt;window.__pwned = 1&lt;/script&gt;"'));
    assert.ok(data.includes(`<title>${escapeHtml(HOSTILE[3])}</title>`));
    // Paths are percent-encoded inside escaped attributes, never raw.
    assert.ok(data.includes('src="dir/%3Cscript%3Ewindow.__pwned%20%3D%201%3C/script%3E.png"'));
    // The JSON settings block cannot close its script element.
    const json = /<script type="application\/json" id="gallery-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    assert.ok(!json.includes('<'));
    assert.equal((JSON.parse(json) as { title: string }).title, HOSTILE[3]);
  });

  test('unsafe file paths are not linked', () => {
    const html = renderGallery(
      [
        entry(0, { files: [{ path: '../secret.png', bytes: 1, sha256: '0', mimeType: 'image/png' }] }),
        entry(1, { files: [{ path: '/etc/passwd', bytes: 1, sha256: '0', mimeType: 'image/png' }] }),
        entry(2, { files: [{ path: 'javascript:alert(1)', bytes: 1, sha256: '0', mimeType: 'image/png' }] }),
      ],
      summary,
    );
    assert.ok(!html.includes('../secret'));
    assert.ok(!html.includes('/etc/passwd'));
    assert.ok(!html.includes('href="javascript:'));
    assert.ok(html.includes('src="javascript%3Aalert(1)"'));
    assert.equal(html.match(/class="thumb empty"/g)?.length, 2);
  });

  test('page carries the strict CSP, lazy thumbnails, summary header, filters and histogram', () => {
    const html = renderGallery([entry(0), entry(1, { status: 'failed', reason: 'blocked', blockReason: 'IMAGE_SAFETY', files: [], costUsd: 0 })], summary);
    assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(GALLERY_CSP)}">`));
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no external resource');
    assert.match(html, /<img loading="lazy" decoding="async" src="0000-a-prompt\.png"/);
    assert.match(html, /<dt>total cost<\/dt><dd>\$0\.0780<\/dd>/);
    assert.match(html, /<dt>images\/min<\/dt><dd>2\.0<\/dd>/);
    assert.match(html, /<dt>wall time<\/dt><dd>1m01s<\/dd>/);
    assert.match(html, /Failures by reason: blocked 1/);
    assert.match(html, /data-filter-status="failed"/);
    assert.match(html, /<option value="blocked">blocked \(1\)<\/option>/);
    assert.match(html, /blocked: IMAGE_SAFETY/);
    assert.match(html, /<svg class="histogram"/);
  });

  test('a line without a price (a model newer than the registry) says "unknown", never $0; a mixed folder shows both parts', () => {
    const unpriced = { answers: 1, images: 1, models: ['mystery-model'] };
    const only = { ...summary, costUsd: 0, unpriced, folder: { jobs: 1, succeeded: 1, failed: 0, images: 1, costUsd: 0, unpriced } };
    const html = renderGallery([entry(0, { model: 'mystery-model', costUsd: undefined })], only);
    assert.match(html, /<dt>cost<\/dt><dd>unknown price<\/dd>/);
    assert.match(html, /<dt>total cost<\/dt><dd>unknown \(1 image of mystery-model: price not known\)<\/dd>/);
    assert.doesNotMatch(html, /\$0\.0000/);
    const mixed = { ...summary, unpriced, folder: { jobs: 2, succeeded: 2, failed: 0, images: 2, costUsd: 0.039, unpriced } };
    const both = renderGallery([entry(0), entry(1, { model: 'mystery-model', costUsd: undefined })], mixed);
    assert.match(both, /<dt>total cost<\/dt><dd>\$0\.0390 \+ unknown \(1 image of mystery-model: price not known\)<\/dd>/);
  });

  test('the page holds the first page of cards whatever the number of jobs; the rest is in data files', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => entry(i));
    const html = renderGallery(many, { ...summary, total: 10_000 });
    assert.equal(cards(html), PAGE_SIZE);
    const small = renderGallery(many.slice(0, PAGE_SIZE), { ...summary, total: PAGE_SIZE });
    // The shell does not grow with the run: only the counts in its labels change.
    assert.ok(Math.abs(html.length - small.length) < 100, `${html.length} vs ${small.length}`);
    assert.match(html, /"jobs":10000/);
  });
});

/** The argument list of a data file: `imagebatchGallery.fn(k,<json>);` → [k, value]. */
function dataOf(text: string): unknown[] {
  const m = /^imagebatchGallery\.(jobs|prompts|columns)\(([\s\S]*)\);\n$/.exec(text);
  assert.ok(m, text.slice(0, 80));
  return JSON.parse(`[${m[2]}]`) as unknown[];
}

describe('gallery data files', () => {
  test('jobs in chunks of CHUNK_JOBS cards, prompts in chunks of PROMPT_CHUNK, one columns file; all escaped', () => {
    const n = PROMPT_CHUNK + 7;
    const jobs = Array.from({ length: n }, (_, i) =>
      entry(i, i % 3 === 1 ? { status: 'failed', reason: i % 2 ? 'blocked' : 'server', files: [], prompt: HOSTILE[i % HOSTILE.length]! } : i % 5 ? {} : { model: 'mystery', costUsd: undefined }),
    );
    const files = galleryDataFiles(jobs);
    const jobFiles = [...files.keys()].filter((f) => f.startsWith('jobs-'));
    assert.equal(jobFiles.length, Math.ceil(n / CHUNK_JOBS));
    assert.deepEqual([...files.keys()].filter((f) => f.startsWith('prompts-')), ['prompts-000.js', 'prompts-001.js']);
    for (const text of files.values()) assert.ok(!/[<>&\u2028\u2029]/.test(text), 'no character that could end a script or an HTML context');
    const [k, cardsOf] = dataOf(files.get('jobs-00001.js')!) as [number, GalleryCard[]];
    assert.equal(k, 1);
    assert.equal(cardsOf.length, CHUNK_JOBS);
    assert.deepEqual(cardsOf.map((c) => c.i), Array.from({ length: CHUNK_JOBS }, (_, i) => CHUNK_JOBS + i));
    const failed = cardsOf.find((c) => c.s === 'failed')!;
    assert.equal(failed.f.length, 0);
    assert.ok(['blocked', 'server'].includes(failed.rk));
    const last = dataOf(files.get(jobFiles.at(-1)!)!)[1] as GalleryCard[];
    assert.equal(last.at(-1)!.i, n - 1);
    const [, prompts] = dataOf(files.get('prompts-001.js')!) as [number, string[]];
    assert.deepEqual(prompts, jobs.slice(PROMPT_CHUNK).map((e) => e.prompt));
    const [cols] = dataOf(files.get('columns.js')!) as [GalleryColumns];
    assert.equal(cols.n, n);
    assert.equal(cols.status.length, n);
    assert.equal(cols.status[1], 0);
    assert.equal(cols.reasons[cols.reason[1]!], 'blocked');
    assert.equal(cols.reasons[cols.reason[4]!], 'server');
    assert.equal(cols.reason[0], -1);
    assert.equal(cols.models[cols.model[5]!], 'mystery');
    assert.equal(cols.cost[5], -1, 'unknown price sorts as unknown');
    assert.equal(cols.latency[2], 1020);
  });
});

describe('helpers', () => {
  test('jsonForScript escapes characters that could end the script', () => {
    const s = jsonForScript({ a: '</script><!--\u2028&>' });
    assert.ok(!/[<>&\u2028]/.test(s));
    assert.deepEqual(JSON.parse(s), { a: '</script><!--\u2028&>' });
  });

  test('latency bins cover every value; outliers land in the last bin', () => {
    const xs = [...Array.from({ length: 99 }, (_, i) => 1000 + i), 1_000_000];
    const bins = latencyBins(xs, 10);
    assert.equal(bins.reduce((n, b) => n + b.count, 0), 100);
    assert.equal(bins.at(-1)?.toMs, 1_000_000);
    assert.equal(latencyBins([5, 5, 5]).length, 1);
    assert.deepEqual(latencyBins([]), []);
    assert.match(latencyHistogramSvg([]), /No latencies/);
    assert.equal(latencyHistogramSvg(xs, { bins: 10 }).match(/<rect /g)?.length, 10);
  });
});

describe('writeGallery', () => {
  test('writes index.html from the manifest, using summary.json when present, with no temp file left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imagebatch-gallery-unit-'));
    try {
      const lines = [entry(0), entry(1, { status: 'failed', reason: 'timeout', files: [] }), entry(1)];
      await writeFile(join(dir, 'manifest.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const path = await writeGallery(dir, { title: 'My run' });
      assert.equal(path, join(dir, 'index.html'));
      let html = await readFile(path, 'utf8');
      assert.equal(cards(html), 2);
      assert.match(html, /<h1>My run<\/h1>/);
      assert.match(html, /<dt>succeeded<\/dt><dd>2<\/dd>/); // computed from the manifest
      assert.match(html, /<dt>attempts<\/dt><dd>3<\/dd>/);

      await writeFile(join(dir, 'summary.json'), JSON.stringify({ ...summary, wallMs: 3_600_000 }));
      await writeGallery(dir);
      html = await readFile(path, 'utf8');
      assert.match(html, /<dt>wall time<\/dt><dd>1h00m<\/dd>/);
      assert.match(html, /<title>imagebatch gallery: imagebatch-gallery-unit-/);
      assert.deepEqual((await readdir(dir)).sort(), [GALLERY_DATA_DIR, 'index.html', 'manifest.jsonl', 'summary.json']);
      assert.deepEqual((await readdir(join(dir, GALLERY_DATA_DIR))).sort(), ['columns.js', 'jobs-00000.js', 'prompts-000.js']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an aborted signal rejects and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imagebatch-gallery-unit-'));
    try {
      await writeFile(join(dir, 'manifest.jsonl'), JSON.stringify(entry(0)) + '\n');
      await assert.rejects(writeGallery(dir, { signal: AbortSignal.abort() }));
      assert.deepEqual(await readdir(dir), ['manifest.jsonl']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
