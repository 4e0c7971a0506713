// A model newer than the registry: it runs as asked, the run warns once that its price and capabilities are unknown,
// a given --price-per-image prices it, and a budget without a price is refused before anything is sent.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateImages } from '../../src/run.ts';
import { runToDisk } from '../../src/run-disk.ts';
import { submitBatch } from '../../src/batch/submit.ts';
import { OptionError } from '../../src/errors.ts';
import type { RunEvent } from '../../src/types.ts';
import { DEFAULT_MODELS } from '../../src/emulator/index.ts';
import { DEFAULT_MODEL } from '../../src/defaults.ts';
import type { RunSummary } from '../../src/types.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { collect, manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';
import { runCli } from '../helpers/cli.ts';

const FUTURE = 'gemini-9-image';
const KEY = 'test-key';
/** A JSONL input: one line on the default (priced) model, one naming the unpriced model. */
const CAT_AND_FUTURE_DOG = `${JSON.stringify({ prompt: 'a cat' })}\n${JSON.stringify({ prompt: 'a dog', model: FUTURE })}\n`;

/** `fn` in a fresh folder, beside an emulator serving today's models and FUTURE. */
async function withBothModels(fn: (emu: Emulator, dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('ib-unpriced-');
  try {
    await withEmulator({ apiKey: KEY, models: [...DEFAULT_MODELS, FUTURE] }, (emu) => fn(emu, dir.dir));
  } finally {
    await dir.cleanup();
  }
}

describe('a model the registry does not know', () => {
  test('runs unchanged, warns once, and costs the given price per image', async () => {
    await withEmulator({ apiKey: KEY, models: [FUTURE] }, async (emu) => {
      const events: RunEvent[] = [];
      const results = await collect(
        generateImages(['one', 'two', 'three'], { apiKey: KEY, baseUrl: emu.url, model: FUTURE, pricePerImageUsd: 0.05, maxCostUsd: 1, onEvent: (e) => events.push(e) }),
      );
      assert.equal(results.filter((r) => r.status === 'succeeded').length, 3);
      assert.ok(results.every((r) => r.costUsd === 0.05), JSON.stringify(results.map((r) => r.costUsd)));
      const warnings = events.filter((e) => e.type === 'warning' && e.message.includes(FUTURE));
      assert.equal(warnings.length, 1, 'one warning for the model, not one per job');
      assert.match(warnings[0]!.type === 'warning' ? warnings[0]!.message : '', /\$0\.05 per image/);
    });
  });

  test('without a price it still runs, says its cost is unknown, and a budget is refused up front', async () => {
    await withEmulator({ apiKey: KEY, models: [FUTURE] }, async (emu) => {
      const events: RunEvent[] = [];
      const results = await collect(generateImages(['a'], { apiKey: KEY, baseUrl: emu.url, model: FUTURE, onEvent: (e) => events.push(e) }));
      assert.equal(results[0]?.status, 'succeeded');
      assert.ok(events.some((e) => e.type === 'warning' && /cost is unknown/.test(e.message)));
      assert.throws(() => generateImages(['a'], { apiKey: KEY, baseUrl: emu.url, model: FUTURE, maxCostUsd: 1 }), (e: unknown) => {
        assert.ok(e instanceof OptionError);
        assert.match(e.message, /pricePerImageUsd/);
        return true;
      });
      assert.equal(emu.counters.byRoute.generateContent, 1, 'the refused budget sent nothing');
    });
  });

  test('library: a budget with a job naming an unpriced model is refused before anything is sent (generateImages, runToDisk, submitBatch)', async () => {
    await withBothModels(async (emu, dir) => {
      const jobs = ['a cat', { prompt: 'a dog', model: FUTURE }];
      const isRefusal = (e: unknown) => e instanceof OptionError && e.message.includes(FUTURE) && /pricePerImageUsd/.test(e.message);
      await assert.rejects(collect(generateImages(jobs, { apiKey: KEY, baseUrl: emu.url, maxCostUsd: 1 })), isRefusal);
      const out = join(dir, 'out');
      await assert.rejects(runToDisk(jobs, { apiKey: KEY, baseUrl: emu.url, maxCostUsd: 1, out, cacheDir: false }), isRefusal);
      assert.equal(await stat(out).then(() => true, () => false), false, 'no folder');
      assert.equal(emu.counters.byRoute.generateContent ?? 0, 0);
      assert.equal(emu.counters.byRoute.modelsGet ?? 0, 0, 'refused before the preflight too');
      await assert.rejects(submitBatch(jobs, { apiKey: KEY, baseUrl: emu.url, maxCostUsd: 1, out: join(dir, 'batch') }), (e: unknown) => e instanceof OptionError && e.message.includes(FUTURE));
      assert.equal(emu.counters.byRoute.batchCreate ?? 0, 0, 'a batch cap is refused too, nothing submitted');
      const priced = await collect(generateImages(jobs, { apiKey: KEY, baseUrl: emu.url, maxCostUsd: 1, pricePerImageUsd: 0.05 }));
      assert.equal(priced.filter((r) => r.status === 'succeeded').length, 2, 'with a price the budget can count it');
    });
  });

  test('CLI: --max-cost with a line naming an unpriced model is exit 2 naming --price-per-image, nothing sent', async () => {
    const dir = await tempDir('ib-unpriced-');
    try {
      const file = join(dir.dir, 'p.jsonl');
      await writeFile(file, CAT_AND_FUTURE_DOG);
      const r = await runCli(['generate', file, '--emulator', '--max-cost', '1', '--out', 'out'], { cwd: dir.dir, timeoutMs: 30_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`registry has none for ${FUTURE}`));
      assert.match(r.stderr, /--price-per-image/);
    } finally {
      await dir.cleanup();
    }
  });

  test('CLI batch: --max-cost without a price is exit 2 naming --price-per-image; with one, submit and wait count it', async () => {
    await withBothModels(async (emu, dir) => {
      const file = join(dir, 'p.jsonl');
      await writeFile(file, CAT_AND_FUTURE_DOG);
      const env = { GEMINI_API_KEY: KEY };
      const refused = await runCli(['batch', 'submit', file, '--base-url', emu.url, '--max-cost', '1', '--out', 'out'], { cwd: dir, env, timeoutMs: 30_000 });
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, new RegExp(`registry has none for ${FUTURE}`));
      assert.match(refused.stderr, /--price-per-image/);
      assert.equal(emu.counters.byRoute.batchCreate ?? 0, 0, 'nothing submitted');
      const ok = await runCli(['batch', 'submit', file, '--base-url', emu.url, '--max-cost', '1', '--price-per-image', '0.02', '--out', 'out', '--wait', '--poll', '0.05'], {
        cwd: dir,
        env,
        timeoutMs: 60_000,
      });
      assert.equal(ok.code, 0, ok.stderr);
      const entries = await manifestOf(join(dir, 'out'));
      assert.equal(entries.length, 2);
      assert.equal(entries.find((e) => e.prompt === 'a dog')?.costUsd, 0.02, 'the given price, as billed in batch mode');
      assert.ok((entries.find((e) => e.prompt === 'a cat')?.costUsd ?? 0) > 0, 'the registry price for the known model');
    });
  });

  test('CLI: its cost is "unknown" in the progress lines, the closing summary and summary.json, never $0.0000', async () => {
    await withBothModels(async (emu, dir) => {
      const file = join(dir, 'p.txt');
      await writeFile(file, 'a cat\na dog\n');
      const r = await runCli(['generate', file, '--base-url', emu.url, '--model', FUTURE, '--no-cache', '--out', 'out'], { cwd: dir, env: { GEMINI_API_KEY: KEY }, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      const ok = r.stderr.split('\n').filter((l) => l.startsWith('ok '));
      assert.equal(ok.length, 2, r.stderr);
      assert.ok(ok.every((l) => l.endsWith('  cost unknown')), ok.join('\n'));
      assert.match(r.stderr, /cost\s+unknown \(2 images of gemini-9-image: price not known\)/);
      assert.doesNotMatch(r.stderr, /\$0\.0000/);
      const summary = JSON.parse(await readFile(join(dir, 'out', 'summary.json'), 'utf8')) as RunSummary;
      assert.deepEqual(summary.unpriced, { answers: 2, images: 2, models: [FUTURE] });
      assert.deepEqual(summary.folder?.unpriced, { answers: 2, images: 2, models: [FUTURE] });
      assert.ok((await manifestOf(join(dir, 'out'))).every((e) => e.costUsd === undefined), 'the manifest stores no made-up $0');
      const html = await readFile(join(dir, 'out', 'index.html'), 'utf8');
      assert.match(html, /unknown \(2 images of gemini-9-image: price not known\)/);
    });
  });

  test('a run on a priced and an unpriced model shows the known part and the unknown part', async () => {
    await withBothModels(async (emu, dir) => {
      const file = join(dir, 'p.jsonl');
      await writeFile(file, CAT_AND_FUTURE_DOG);
      const r = await runCli(['generate', file, '--base-url', emu.url, '--no-cache', '--out', 'out', '--json'], { cwd: dir, env: { GEMINI_API_KEY: KEY }, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
      const ok = events.filter((e) => e.type === 'succeeded');
      assert.equal(ok.length, 2);
      const [priced, unpriced] = [0, 1].map((i) => ok.find((e) => e.index === i));
      assert.ok(priced?.type === 'succeeded' && priced.costUsd! > 0 && priced.costUnknown === undefined, JSON.stringify(priced));
      assert.ok(unpriced?.type === 'succeeded' && unpriced.costUsd === undefined && unpriced.costUnknown === true, JSON.stringify(unpriced));
      const done = events.at(-1);
      assert.ok(done?.type === 'done');
      assert.ok(done.summary.costUsd > 0, `${DEFAULT_MODEL} has a price`);
      assert.deepEqual(done.summary.unpriced, { answers: 1, images: 1, models: [FUTURE] });
    });
  });
});
