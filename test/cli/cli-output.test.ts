// What the CLI prints and writes: --json event lines, plain lines when piped, and the key nowhere in output or files.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { linesOf, runCli } from '../helpers/cli.ts';
import { tempDir, withEmulator } from '../helpers/emu.ts';

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
