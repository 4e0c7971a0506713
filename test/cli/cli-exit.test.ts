// The CLI as a user runs it (a child process in a temp folder): exit codes 0 / 1 / 2 / 3 and what each says.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { imagesIn, manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';

const GOOD_KEY = 'AIzaSyCLIgoodKEY-abcdefghijklmnopqrstu';
const BAD_KEY = 'AIzaSyCLIbadKEY-0987654321zyxwvutsrqpo';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('ib-cli-'));
  await writeFile(join(dir, 'three.txt'), '# three prompts\na red kite\n\na blue kite\na green kite\n');
});
after(async () => cleanup());

const noKeyIn = (text: string) => {
  assert.ok(!text.includes(GOOD_KEY), 'the good key leaked');
  assert.ok(!text.includes(BAD_KEY), 'the bad key leaked');
};

describe('imagebatch exit codes', () => {
  test('0: everything succeeded (built-in emulator)', async () => {
    const r = await runCli(['generate', 'three.txt', '--emulator', '--out', 'ok-out'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await imagesIn(join(dir, 'ok-out'))).length, 3);
  });

  test('1: some jobs failed (a scripted prompt block on an emulator in this process, --base-url + GEMINI_API_KEY)', async () => {
    await withEmulator({ apiKey: GOOD_KEY, faults: { scripted: [{ match: 'blue', fault: 'promptBlock', times: 9 }] } }, async (emu) => {
      const r = await runCli(['generate', 'three.txt', '--base-url', emu.url, '--no-cache', '--out', 'some-failed'], { cwd: dir, env: { GEMINI_API_KEY: GOOD_KEY } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout + r.stderr, /FAIL 0001\s+blocked/);
      const failed = (await manifestOf(join(dir, 'some-failed'))).filter((e) => e.status === 'failed');
      assert.deepEqual(
        failed.map((e) => [e.prompt, e.reason]),
        [['a blue kite', 'blocked']],
      );
      assert.equal(emu.counters.byRoute.generateContent, 3);
      noKeyIn(r.stdout + r.stderr);
    });
  });

  test('2: unknown flag or bad flag value, nothing sent', async () => {
    const unknown = await runCli(['generate', 'three.txt', '--emulator', '--bogus'], { cwd: dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--bogus'/);
    const bad = await runCli(['generate', 'three.txt', '--emulator', '--concurrency', '0'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /concurrency.*"0"/);
    const noCommand = await runCli(['frobnicate'], { cwd: dir });
    assert.equal(noCommand.code, 2);
  });

  test('2: a value rejected past flag parsing, or an unusable --out, is one line, not a stack trace', async () => {
    const ratio = await runCli(['generate', 'three.txt', '--emulator', '--aspect-ratio', '99:1'], { cwd: dir });
    assert.equal(ratio.code, 2, ratio.stderr);
    assert.match(ratio.stderr, /^imagebatch: --aspect-ratio: .*"99:1"$/m);
    assert.doesNotMatch(ratio.stderr, /\n\s+at /, 'no stack trace');
    await writeFile(join(dir, 'a-file'), 'not a folder');
    const out = await runCli(['generate', 'three.txt', '--emulator', '--out', 'a-file'], { cwd: dir });
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /^imagebatch: cannot prepare the output folder/m);
    assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
  });

  test('2: malformed input lists every bad line as file:line and sends nothing', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, ['{"prompt": "fine"}', '{"prompt": 42}', 'not json', '{"prompt": "ok"}', '{"prompt": "x", "imageSize": "9K"}'].join('\n') + '\n');
    await withEmulator({}, async (emu) => {
      const r = await runCli(['generate', 'bad.jsonl', '--base-url', emu.url, '--out', 'bad-out'], { cwd: dir, env: { GEMINI_API_KEY: GOOD_KEY } });
      assert.equal(r.code, 2, r.stderr);
      for (const line of [2, 3, 5]) assert.match(r.stderr, new RegExp(`bad\\.jsonl:${line}: `), `line ${line} reported`);
      assert.doesNotMatch(r.stderr, /bad\.jsonl:[14]: /);
      assert.match(r.stderr, /3 problem\(s\) in the input; nothing was sent/);
      assert.equal(emu.counters.requests, 0);
    });
  });

  test('2: no key and no --emulator says how to set one, and sends nothing even with GEMINI_BASE_URL set', async () => {
    await withEmulator({}, async (emu) => {
      const r = await runCli(['generate', 'three.txt', '--out', 'no-key'], { cwd: dir, env: { GEMINI_BASE_URL: emu.url } });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /GEMINI_API_KEY/);
      assert.match(r.stderr, /--emulator/);
      assert.equal(emu.counters.requests, 0);
    });
  });

  test('3: a bad key stops the run after at most --concurrency requests; neither key is printed', async () => {
    await withEmulator({ apiKey: GOOD_KEY, timeScale: 0.01, latency: { distribution: 'fixed', meanMs: 300 } }, async (emu) => {
      const many = join(dir, 'many.txt');
      await writeFile(many, Array.from({ length: 30 }, (_, i) => `prompt number ${i}`).join('\n'));
      const r = await runCli(['generate', 'many.txt', '--base-url', emu.url, '--concurrency', '3', '--out', 'bad-key'], { cwd: dir, env: { GEMINI_API_KEY: BAD_KEY } });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /run stopped: the API key was rejected/);
      assert.ok((emu.counters.byRoute.generateContent ?? 0) <= 3, `sent ${emu.counters.byRoute.generateContent}`);
      noKeyIn(r.stdout + r.stderr);
      const written = await Promise.all(['summary.json', 'manifest.jsonl', 'index.html'].map((f) => readFile(join(dir, 'bad-key', f), 'utf8').catch(() => '')));
      noKeyIn(written.join(''));
    });
  });

  test('2: an unknown model stops before anything is sent (preflight); 3: --max-cost stops the run', async () => {
    await withEmulator({}, async (emu) => {
      const env = { GEMINI_API_KEY: GOOD_KEY };
      const model = await runCli(['generate', 'three.txt', '--base-url', emu.url, '--no-cache', '--model', 'gemini-0-nope-image', '--out', 'nope'], { cwd: dir, env });
      assert.equal(model.code, 2, model.stderr);
      assert.match(model.stderr, /gemini-0-nope-image is not a model this key can call/);
      assert.match(model.stderr, /Nothing was sent/);
      assert.equal(emu.counters.byRoute.generateContent ?? 0, 0, 'preflight stopped it before any generateContent');
      const before = emu.counters.byRoute.generateContent ?? 0;
      const cost = await runCli(['generate', 'three.txt', '--base-url', emu.url, '--no-cache', '--max-cost', '0.05', '--concurrency', '1', '--out', 'budget'], { cwd: dir, env });
      assert.equal(cost.code, 3, cost.stderr);
      assert.match(cost.stderr, /budget/);
      assert.equal((emu.counters.byRoute.generateContent ?? 0) - before, 1, 'one image fits in $0.05');
      const summary = JSON.parse(await readFile(join(dir, 'budget', 'summary.json'), 'utf8')) as { succeeded: number; stoppedBy?: string };
      assert.equal(summary.succeeded, 1);
      assert.match(summary.stoppedBy ?? '', /budget/);
    });
  });
});
