// `imagebatch models`: the registry as a table and as JSON; with a key, merged with the server's paged models.list.
// Also the CLI's preflight: a retired model on line 3 of a JSONL file stops the run before anything is sent.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { linesOf, runCli } from '../helpers/cli.ts';
import { tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'AIzaSyModelsKEY-abcdefghijklmnopqrstuvw';

describe('imagebatch models', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  before(async () => {
    ({ dir, cleanup } = await tempDir('ib-models-'));
  });
  after(() => cleanup());

  test('without a key: the registry, default marked, retired models with their replacement', async () => {
    const r = await runCli(['models'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^gemini-nano-banana-2\.1 \*\s+Nano Banana 2\.1\s+ga\s+1K,2K,4K\s+\$0\.0336 \(1K\)\s+\$0\.0168 \(1K\)/m);
    assert.match(r.stdout, /^gemini-3-pro-image-preview\s+.*shut_down 2026-06-25.*gemini-3-pro-image$/m);
    assert.doesNotMatch(r.stdout, /this key/);
    const json = await runCli(['models', '--json'], { cwd: dir });
    const rows = linesOf(json.stdout).map((l) => JSON.parse(l) as { id: string; default: boolean; pricePerImage: Record<string, { standard: number; batch: number }> });
    const def = rows.find((x) => x.default)!;
    assert.equal(def.id, 'gemini-nano-banana-2.1');
    assert.deepEqual(def.pricePerImage['4K'], { standard: 0.1134, batch: 0.0567 });
  });

  test('with a key: which models it can call, from the server', async () => {
    await withEmulator({ existingUser: false }, async (emu) => {
      const r = await runCli(['models', '--json', '--base-url', emu.url], { cwd: dir, env: { GEMINI_API_KEY: KEY } });
      assert.equal(r.code, 0, r.stderr);
      const rows = linesOf(r.stdout).map((l) => JSON.parse(l) as { id: string; available?: boolean });
      const byId = new Map(rows.map((x) => [x.id, x.available]));
      assert.equal(byId.get('gemini-nano-banana-2.1'), true);
      assert.equal(byId.get('gemini-2.5-flash-image'), false, 'closed to new users');
      assert.equal(byId.get('gemini-3-pro-image-preview'), false);
      assert.ok((emu.counters.byRoute.modelsList ?? 0) >= 1);
    });
  });

  test('generate: a shut-down model on line 3 stops the run before anything is sent (exit 2, replacement named)', async () => {
    await withEmulator({}, async (emu) => {
      const lines = [{ prompt: 'a fox' }, { prompt: 'a cat' }, { prompt: 'a pro owl', model: 'gemini-3-pro-image-preview' }];
      await writeFile(join(dir, 'mixed.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
      const r = await runCli(['generate', 'mixed.jsonl', '--base-url', emu.url, '--no-cache', '--out', 'mixed'], { cwd: dir, env: { GEMINI_API_KEY: KEY } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image/);
      assert.equal(emu.counters.byRoute.generateContent ?? 0, 0);
      assert.equal(emu.counters.byRoute.modelsGet, 2, 'each distinct model once');
      const submit = await runCli(['batch', 'submit', 'mixed.jsonl', '--base-url', emu.url, '--out', 'mixed-batch'], { cwd: dir, env: { GEMINI_API_KEY: KEY } });
      assert.equal(submit.code, 2, submit.stderr);
      assert.match(submit.stderr, /shut down on 2026-06-25/);
      assert.equal(emu.counters.uploads ?? 0, 0);
      assert.equal(emu.counters.batchesCreated ?? 0, 0);
    });
  });

  test('generate and batch submit ask models.get once per distinct model: the CLI checks up front, the library does not ask again', async () => {
    await withEmulator({}, async (emu) => {
      const lines = [{ prompt: 'a fox' }, { prompt: 'a pro owl', model: 'gemini-3-pro-image' }, { prompt: 'a cat' }];
      await writeFile(join(dir, 'two.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
      const env = { GEMINI_API_KEY: KEY };
      for (const [args, gets] of [
        [['generate', 'two.jsonl', '--base-url', emu.url, '--no-cache', '--out', 'two-stream'], 2],
        [['batch', 'submit', 'two.jsonl', '--base-url', emu.url, '--out', 'two-submit'], 4],
      ] as const) {
        const r = await runCli([...args], { cwd: dir, env, timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(emu.counters.byRoute.modelsGet, gets, `${args.slice(0, 4).join(' ')}: two models, two GETs`);
      }
    });
  });

  test('generate: a size the model does not take is an input error naming file, line and field', async () => {
    await writeFile(join(dir, 'sizes.jsonl'), [JSON.stringify({ prompt: 'ok' }), JSON.stringify({ prompt: 'tiny', imageSize: '512' })].join('\n'));
    const r = await runCli(['generate', 'sizes.jsonl', '--emulator', '--out', 'sizes'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /sizes\.jsonl:2: imageSize: gemini-nano-banana-2\.1 does not take 512; it takes 1K, 2K, 4K/);
    const flag = await runCli(['generate', 'sizes.jsonl', '--emulator', '--model', 'gemini-3-pro-image', '--thinking', 'high', '--out', 'sizes'], { cwd: dir });
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /thinking/);
  });
});
