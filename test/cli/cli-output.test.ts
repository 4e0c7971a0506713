// What the CLI prints and writes: --json event lines, plain lines when piped, --dry-run, the demo run,
// stdin input, `report`, and the key nowhere in output or files.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, linesOf, runCli } from '../helpers/cli.ts';
import { imagesIn, manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'AIzaSyOUTPUTtestKEY-0123456789abcdefgh';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-out-'));
  await writeFile(join(dir, 'four.txt'), 'a quiet harbour\na busy market\na snowy pass\na desert road\n');
});
after(async () => cleanup());

interface JsonEvent {
  type: string;
  [k: string]: unknown;
}

describe('imagebatch output', () => {
  test('--json prints only JSON event lines on stdout, ending with `done`', async () => {
    await withEmulator({ faults: { scripted: [{ match: 'market', fault: 'http500', times: 1 }] } }, async (emu) => {
      const r = await runCli(['generate', 'four.txt', '--base-url', emu.url, '--json', '--no-cache', '--out', 'json-out'], { cwd: dir, env: { GEMINI_API_KEY: KEY } });
      assert.equal(r.code, 0, r.stderr);
      const lines = linesOf(r.stdout);
      const events = lines.map((l, i) => {
        try {
          return JSON.parse(l) as JsonEvent;
        } catch {
          assert.fail(`stdout line ${i + 1} is not JSON: ${l}`);
        }
      });
      assert.ok(events.every((e) => typeof e.type === 'string' && typeof e.at === 'number'));
      assert.equal(events.at(-1)?.type, 'done');
      assert.equal(events.filter((e) => e.type === 'done').length, 1);
      assert.equal(events.filter((e) => e.type === 'succeeded').length, 4);
      assert.equal(events.filter((e) => e.type === 'retried').length, 1);
      const summary = events.at(-1)!.summary as { total: number; succeeded: number; attempts: number };
      assert.deepEqual([summary.total, summary.succeeded, summary.attempts], [4, 4, 5]);
      assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY));
    });
  });

  test('piped output is one plain line per finished job and a summary, with no escape codes', async () => {
    await withEmulator({ faults: { scripted: [{ match: 'snowy', fault: 'imageSafety', times: 9 }] } }, async (emu) => {
      const r = await runCli(['generate', 'four.txt', '--base-url', emu.url, '--no-cache', '--out', 'plain-out'], { cwd: dir, env: { GEMINI_API_KEY: KEY } });
      assert.equal(r.code, 1, r.stderr);
      const all = r.stdout + r.stderr;
      assert.ok(!all.includes('\u001b['), 'no ANSI escapes');
      assert.doesNotMatch(all, /\r/, 'no carriage-return redraws');
      const lines = linesOf(all);
      assert.equal(lines.filter((l) => /^ok {3}\d{4}-[a-z0-9-]+\.png\s/.test(l)).length, 3);
      assert.deepEqual(
        lines.filter((l) => l.startsWith('FAIL')).map((l) => l.split(/\s+/).slice(0, 3).join(' ')),
        ['FAIL 0002 blocked:'],
      );
      assert.ok(lines.some((l) => /^done: 3\/4 succeeded/.test(l)));
      assert.ok(!all.includes(KEY));
    });
  });

  test('--dry-run sends nothing and prints counts and an estimated cost', async () => {
    await withEmulator({}, async (emu) => {
      const env = { GEMINI_API_KEY: KEY };
      const r = await runCli(['generate', 'four.txt', '--base-url', emu.url, '--dry-run', '--variants', '2', '--out', 'dry-out'], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /jobs in input:\s+8/);
      assert.match(r.stdout, /requests to send:\s+8/);
      assert.match(r.stdout, /estimated cost:\s+\$0\.3120/);
      assert.match(r.stdout, /Nothing was sent/);
      const json = await runCli(['generate', 'four.txt', '--dry-run', '--json', '--out', 'dry-out'], { cwd: dir });
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(linesOf(json.stdout).at(-1) ?? '{}') as { type?: string; jobs?: number; requests?: number; estimatedCostUsd?: number };
      assert.deepEqual([report.type, report.jobs, report.requests, report.estimatedCostUsd], ['dry_run', 4, 4, 0.156]);
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

  test('the key never appears in stdout, stderr, manifest, summary or index.html', async () => {
    const faults = { scripted: [{ match: 'harbour', fault: 'http400' as const, times: 9 }, { match: 'road', fault: 'http503' as const, times: 1 }] };
    await withEmulator({ apiKey: KEY, faults }, async (emu) => {
      const env = { GEMINI_API_KEY: KEY };
      const outputs: string[] = [];
      for (const mode of [[], ['--json']]) {
        const out = `secret-${mode.length}`;
        const r = await runCli(['generate', 'four.txt', '--base-url', emu.url, '--no-cache', '--out', out, ...mode], { cwd: dir, env });
        assert.equal(r.code, 1, r.stderr);
        outputs.push(r.stdout, r.stderr);
        for (const f of ['manifest.jsonl', 'summary.json', 'index.html']) outputs.push(await readFile(join(dir, out, f), 'utf8'));
      }
      const all = outputs.join('\n');
      assert.ok(all.includes('invalid argument'), 'failures were reported');
      assert.ok(!all.includes(KEY), 'the key leaked');
      assert.ok(!all.includes(KEY.slice(0, 16)), 'part of the key leaked');
    });
  });
});
