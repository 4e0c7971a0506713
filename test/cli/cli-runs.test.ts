// Whole CLI runs: --dry-run (sends nothing), the demo (10 PNGs, the cat prompt recovered by the smart retry),
// prompts on stdin, `imagebatch report`, and `imagebatch emulator`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateImages } from '../../src/run.ts';
import { AuthError } from '../../src/errors.ts';
import { REPO, linesOf, runCli, spawnCli } from '../helpers/cli.ts';
import { collect, eventually, imagesIn, manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'AIzaSyRUNStestKEY-0123456789abcdefghij';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-runs-'));
  await writeFile(join(dir, 'four.txt'), 'a quiet harbour\na busy market\na snowy pass\na desert road\n');
});
after(async () => cleanup());

describe('imagebatch runs', () => {
  test('--dry-run sends nothing and prints counts and an estimated cost', async () => {
    await withEmulator({}, async (emu) => {
      const env = { GEMINI_API_KEY: KEY };
      const r = await runCli(['generate', 'four.txt', '--base-url', emu.url, '--dry-run', '--variants', '2', '--out', 'dry-out'], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /jobs in input:\s+8/);
      assert.match(r.stdout, /requests to send:\s+8/);
      assert.match(r.stdout, /estimated cost:\s+\$0\.2688/);
      assert.match(r.stdout, /Nothing was sent/);
      const json = await runCli(['generate', 'four.txt', '--dry-run', '--json', '--out', 'dry-out'], { cwd: dir });
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(linesOf(json.stdout).at(-1) ?? '{}') as { type?: string; jobs?: number; requests?: number; estimatedCostUsd?: number };
      assert.deepEqual([report.type, report.jobs, report.requests, report.estimatedCostUsd], ['dry_run', 4, 4, 0.1344]);
      assert.equal(emu.counters.requests, 0, 'the emulator saw nothing');
      await assert.rejects(stat(join(dir, 'dry-out', 'manifest.jsonl')), 'no manifest was written');
      // After a real run, the dry run counts what is already done.
      const real = await runCli(['generate', 'four.txt', '--base-url', emu.url, '--no-cache', '--out', 'dry-out'], { cwd: dir, env });
      assert.equal(real.code, 0, real.stderr);
      const again = await runCli(['generate', 'four.txt', '--dry-run', '--out', 'dry-out'], { cwd: dir });
      assert.match(again.stdout, /already done:\s+4/);
      assert.match(again.stdout, /requests to send:\s+0/);
    });
  });

  test('the demo run writes 10 PNGs, a 10-line manifest and summary.json; the cat prompt took 2 attempts', async () => {
    const prompts = join(REPO, 'examples', 'prompts.txt');
    const r = await runCli(['generate', prompts, '--emulator', '--emulator-profile', 'demo', '--out', 'out/demo', '--fresh', '--no-cache'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = join(dir, 'out', 'demo');
    assert.equal((await imagesIn(out)).filter((n) => n.endsWith('.png')).length, 10);
    const manifest = await manifestOf(out);
    assert.equal(manifest.length, 10);
    const cat = manifest.filter((e) => /cat/i.test(e.prompt));
    assert.equal(cat.length, 1);
    assert.equal(cat[0]!.status, 'succeeded');
    assert.equal(cat[0]!.attempts, 2, 'the text-only answer was retried');
    assert.ok(manifest.filter((e) => e !== cat[0]).every((e) => e.status === 'succeeded' && e.attempts === 1));
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { total: number; succeeded: number; attempts: number };
    assert.deepEqual([summary.total, summary.succeeded, summary.attempts], [10, 10, 11]);
    assert.ok((await stat(join(out, 'index.html'))).size > 0);
  });

  test('prompts on stdin (-), and `imagebatch report` rebuilds the gallery', async () => {
    const r = await runCli(['generate', '-', '--emulator', '--no-cache', '--out', 'stdin-out'], { cwd: dir, stdin: 'one from stdin\n# a comment\ntwo from stdin\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (await manifestOf(join(dir, 'stdin-out'))).map((e) => e.prompt).sort(),
      ['one from stdin', 'two from stdin'],
    );
    await rm(join(dir, 'stdin-out', 'index.html'));
    const rep = await runCli(['report', 'stdin-out'], { cwd: dir });
    assert.equal(rep.code, 0, rep.stderr);
    const html = await readFile(join(dir, 'stdin-out', 'index.html'), 'utf8');
    assert.ok(html.includes('one from stdin'));
  });


  test('`imagebatch emulator` prints its URL on the first line, serves clients, and stops on SIGINT', async () => {
    const p = spawnCli(['emulator', '--api-key', KEY, '--seed', '3'], { cwd: dir });
    assert.ok(await eventually(() => p.output().stdout.includes('\n'), 10_000), 'a first line');
    const url = linesOf(p.output().stdout)[0]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const results = await collect(generateImages(['a served kite'], { apiKey: KEY, baseUrl: url }));
    assert.equal(results[0]?.status, 'succeeded');
    const wrong = await collect(generateImages(['x'], { apiKey: 'not-the-key', baseUrl: url })).catch((e: unknown) => e);
    assert.ok(wrong instanceof AuthError, 'only --api-key is accepted');
    p.child.kill('SIGINT');
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY));
  });
});

