// The library preflights on its own (generateImages, runToDisk, submitBatch): before a model's first request,
// GET models/{id} once; a 404 stops the run with the typed error and the registry's "use X instead" before anything
// is sent for that model. An array is checked whole up front; a stream model by model as it is read.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generateImages } from '../../src/run.ts';
import { runToDisk } from '../../src/run-disk.ts';
import { submitBatch } from '../../src/batch/submit.ts';
import { vertexBackend } from '../../src/vertex/backend.ts';
import { ModelNotFoundError } from '../../src/errors.ts';
import { DEFAULT_MODEL } from '../../src/defaults.ts';
import type { JobInput, Result } from '../../src/types.ts';
import { collect, manifestOf, spyFetch, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'preflight-key';
const RETIRED = 'gemini-3-pro-image-preview';
const OTHER = 'gemini-3-pro-image';

async function* stream(inputs: JobInput[]): AsyncGenerator<JobInput> {
  for (const input of inputs) yield input;
}

/** Runs `fn` and returns what it threw (failing the test if it did not throw a ModelNotFoundError). */
async function refused(fn: () => Promise<unknown>): Promise<ModelNotFoundError> {
  const e = await fn().then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(e instanceof ModelNotFoundError, `expected ModelNotFoundError, got ${String(e)}`);
  return e;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('generateImages preflights each model', () => {
  test('a shut-down preview: the typed error with its replacement, and no generateContent at all (array and stream)', async () => {
    for (const input of [() => ['a', 'b', 'c'], () => stream(['a', 'b', 'c'])]) {
      await withEmulator({ apiKey: KEY }, async (emu) => {
        const e = await refused(() => collect(generateImages(input(), { apiKey: KEY, baseUrl: emu.url, model: RETIRED })));
        assert.equal(e.reason, 'shut_down');
        assert.equal(e.replacement, OTHER);
        assert.match(e.message, /^gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image/);
        assert.equal(emu.counters.byRoute.modelsGet, 1, 'asked once, not once per job');
        assert.equal(emu.counters.byRoute.generateContent ?? 0, 0, 'nothing was sent');
      });
    }
  });

  test('an array naming a model the server does not know stops before anything is sent, even for the good model', async () => {
    await withEmulator({ apiKey: KEY }, async (emu) => {
      const jobs: JobInput[] = ['one', { prompt: 'two', model: OTHER }, { prompt: 'three', model: 'gemini-0-nope-image' }];
      const e = await refused(() => collect(generateImages(jobs, { apiKey: KEY, baseUrl: emu.url })));
      assert.equal(e.reason, 'not_found');
      assert.equal(e.model, 'gemini-0-nope-image');
      assert.equal(emu.counters.byRoute.generateContent ?? 0, 0);
      assert.equal(emu.counters.byRoute.modelsGet, 3);
    });
  });

  test('a stream: the good model runs, the unknown one is asked once when it first appears, and nothing of it is sent', async () => {
    await withEmulator({ apiKey: KEY }, async (emu) => {
      const spy = spyFetch();
      const jobs: JobInput[] = [
        ...['a', 'b', 'c'].map((p) => ({ prompt: p, model: OTHER })),
        ...['d', 'e'].map((p) => ({ prompt: p, model: 'gemini-0-nope-image' })),
      ];
      const results: Result[] = [];
      const e = await refused(async () => {
        for await (const r of generateImages(stream(jobs), { apiKey: KEY, baseUrl: emu.url, fetch: spy.fetch, concurrency: 1, ordered: true })) results.push(r);
      });
      assert.equal(e.model, 'gemini-0-nope-image');
      assert.deepEqual(results.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded'], 'the jobs before it were answered and handed over');
      const gets = spy.sent.filter((s) => !s.url.includes(':generateContent')).map((s) => new URL(s.url).pathname);
      assert.deepEqual(gets, [`/v1beta/models/${OTHER}`, '/v1beta/models/gemini-0-nope-image'], 'one GET per distinct model, each before its first request');
      assert.ok(spy.sent.every((s) => !(s.url.includes('nope') && s.url.includes(':generateContent'))), 'nothing sent for the unknown model');
      assert.equal(emu.counters.byRoute.generateContent, 3);
    });
  });

  test('exactly one GET per distinct model however many jobs name it; preflight: false asks nothing', async () => {
    await withEmulator({ apiKey: KEY }, async (emu) => {
      const jobs: JobInput[] = ['a', 'b', { prompt: 'c', model: OTHER }, { prompt: 'd', model: `models/${OTHER}` }, 'e'];
      const results = await collect(generateImages(jobs, { apiKey: KEY, baseUrl: emu.url }));
      assert.equal(results.filter((r) => r.status === 'succeeded').length, 5);
      assert.equal(emu.counters.byRoute.modelsGet, 2, `${DEFAULT_MODEL} and ${OTHER}`);
      await collect(generateImages(stream(jobs), { apiKey: KEY, baseUrl: emu.url, preflight: false }));
      assert.equal(emu.counters.byRoute.modelsGet, 2, 'preflight: false skipped the GET');
      assert.equal(emu.counters.byRoute.generateContent, 10);
    });
  });

  test('a caller that already aborted: no GET, no generateContent', async () => {
    await withEmulator({ apiKey: KEY }, async (emu) => {
      await collect(generateImages(['a'], { apiKey: KEY, baseUrl: emu.url, signal: AbortSignal.abort() })).catch(() => undefined);
      assert.equal(emu.counters.byRoute.modelsGet ?? 0, 0);
      assert.equal(emu.counters.byRoute.generateContent ?? 0, 0);
    });
  });
});

describe('on Vertex AI', () => {
  test('the preflight reads the publisher model once; an unknown one stops the run before any generate', async () => {
    await withEmulator({}, async (emu) => {
      // Express mode (an API key, no project): no credentials file or metadata server involved.
      const backend = await vertexBackend({ baseUrl: emu.url, apiKey: 'emulator-key', env: {} });
      const e = await refused(() => collect(generateImages(['a', 'b'], { backend, model: 'gemini-0-nope-image' })));
      assert.equal(e.model, 'gemini-0-nope-image');
      assert.equal(emu.counters.byRoute['vertexExpress.generateContent'] ?? 0, 0);
      const results = await collect(generateImages(['a', 'b', 'c'], { backend, model: OTHER }));
      assert.equal(results.filter((r) => r.status === 'succeeded').length, 3);
      assert.equal(emu.counters.byRoute.vertexModelsGet, 2, 'one publisher-model read per run and model');
      assert.equal(emu.counters.byRoute.modelsGet ?? 0, 0, 'not the Developer API path');
      assert.equal(emu.counters.byRoute['vertexExpress.generateContent'], 3);
    });
  });
});

describe('runToDisk and submitBatch preflight the whole input', () => {
  test('runToDisk on an array with a retired model: the typed error and no folder at all', async () => {
    const dir = await tempDir('ib-preflight-');
    try {
      await withEmulator({ apiKey: KEY }, async (emu) => {
        const out = join(dir.dir, 'out');
        const e = await refused(() => runToDisk(['a', { prompt: 'b', model: RETIRED }], { apiKey: KEY, baseUrl: emu.url, out, cacheDir: false }));
        assert.equal(e.replacement, OTHER);
        assert.equal(await exists(out), false, 'nothing written: no folder, no manifest, no summary');
        assert.equal(emu.counters.byRoute.generateContent ?? 0, 0);
      });
    } finally {
      await dir.cleanup();
    }
  });

  test('runToDisk on a stream: a model retired at line 3 stops the run there; the folder records what was done and why', async () => {
    const dir = await tempDir('ib-preflight-');
    try {
      await withEmulator({ apiKey: KEY }, async (emu) => {
        const out = join(dir.dir, 'out');
        const jobs = stream(['a', 'b', { prompt: 'c', model: RETIRED }, 'd']);
        await refused(() => runToDisk(jobs, { apiKey: KEY, baseUrl: emu.url, out, cacheDir: false, concurrency: 1, ordered: true }));
        const lines = await manifestOf(out);
        assert.deepEqual(lines.map((l) => l.prompt), ['a', 'b'], 'only what ran before the stop; nothing of the retired model');
        const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { stoppedBy?: string };
        assert.match(summary.stoppedBy ?? '', /gemini-3-pro-image-preview was shut down/);
        assert.equal(emu.counters.byRoute.generateContent, 2);
      });
    } finally {
      await dir.cleanup();
    }
  });

  test('submitBatch on an array with a retired model: nothing uploaded or created, no folder; preflight: false leaves it to the server', async () => {
    const dir = await tempDir('ib-preflight-');
    try {
      await withEmulator({ apiKey: KEY }, async (emu) => {
        const out = join(dir.dir, 'out');
        const e = await refused(() => submitBatch(['a', { prompt: 'b', model: RETIRED }], { apiKey: KEY, baseUrl: emu.url, out }));
        assert.equal(e.model, RETIRED);
        assert.equal(await exists(out), false);
        assert.equal(emu.counters.byRoute.batchCreate ?? 0, 0);
        assert.equal(emu.counters.byRoute.modelsGet, 2);
        const ok = await submitBatch(['a', 'b'], { apiKey: KEY, baseUrl: emu.url, out, preflight: false });
        assert.equal(ok.submitted, 2);
        assert.equal(emu.counters.byRoute.modelsGet, 2, 'no GET with preflight: false');
      });
    } finally {
      await dir.cleanup();
    }
  });
});
