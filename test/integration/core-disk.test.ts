// runToDisk() against the emulator: hostile prompts stay inside the folder under safe names, a killed run
// leaves no partial image under a final name and resumes, the cache pays once across folders, bad input
// sends nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToDisk } from '../../src/run-disk.ts';
import { openInput } from '../../src/input/index.ts';
import { InputError } from '../../src/errors.ts';
import { readManifest } from '../../src/storage/manifest.ts';
import { readThoughtSignature } from '../../src/storage/signature.ts';
import { sha256Hex } from '../../src/internal/hash.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';
import { filesUnder, imagesIn, isCompletePng, manifestOf, spyFetch, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'test-key-disk';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('../helpers/disk-worker.ts', import.meta.url));
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

describe('runToDisk against the emulator', () => {
  test('hostile prompts and `out` stems produce safe names inside the folder', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const hostile = [
        { prompt: '../../etc/passwd' },
        { prompt: 'x'.repeat(10_000) },
        { prompt: '🐱🎨🌈 ✨' },
        { prompt: 'CON' },
        { prompt: 'nul' },
        { prompt: 'line one\nline two\r\nline three' },
        { prompt: '/absolute/path/to/file' },
        { prompt: 'C:\\Windows\\System32\\evil.dll' },
        { prompt: '..' },
        { prompt: 'an ordinary prompt', out: '../../escaped' },
        { prompt: 'another ordinary prompt', out: 'LPT1' },
        { prompt: 'a third ordinary prompt', out: '/etc/shadow' },
      ];
      const file = join(dir, 'hostile.jsonl');
      await writeFile(file, hostile.map((h) => JSON.stringify(h)).join('\n') + '\n');
      const out = join(dir, 'out');
      const input = await openInput(file);
      let summary;
      try {
        // The default model thinks: each image carries its thoughtSignature inside (no second file to name).
        await withEmulator({}, async (emu) => {
          summary = await runToDisk(input.jobs, { apiKey: KEY, baseUrl: emu.url, out, cacheDir: false });
        });
      } finally {
        await input.cleanup();
      }
      assert.equal(summary!.succeeded, hostile.length);
      // Nothing escaped: the temp folder holds only the input and the output folder.
      assert.deepEqual((await readdir(dir)).sort(), ['hostile.jsonl', 'out']);
      const files = await filesUnder(out);
      const images = files.filter((f) => f.endsWith('.png'));
      assert.equal(images.length, hostile.length);
      assert.deepEqual(
        files.filter((f) => !f.endsWith('.png') && !f.startsWith('gallery/')),
        ['index.html', 'manifest.jsonl', 'summary.json'],
      );
      for (const name of images) {
        assert.match(name, /^\d{4}-[a-z0-9]+(-[a-z0-9]+)*\.png$/, name);
        assert.ok(!WINDOWS_RESERVED.test(name.replace(/^\d{4}-/, '')), name);
        assert.ok(name.length <= 4 + 1 + 100 + 4, `${name.length} characters`);
      }
      const manifest = await manifestOf(out);
      const byIndex = new Map(manifest.map((e) => [e.index, e]));
      // The slug of a 10,000-character prompt is cut to 48 characters; the manifest keeps the prompt verbatim.
      assert.equal(byIndex.get(1)!.files[0]!.path, `0001-${'x'.repeat(48)}.png`);
      assert.equal(byIndex.get(1)!.prompt.length, 10_000);
      assert.equal(byIndex.get(5)!.prompt, 'line one\nline two\r\nline three');
      assert.equal(byIndex.get(2)!.files[0]!.path, '0002-image.png', 'an all-emoji prompt still gets a name');
      assert.match(byIndex.get(3)!.files[0]!.path, /^0003-con-x\.png$/);
      assert.match(byIndex.get(9)!.files[0]!.path, /^0009-escaped\.png$/);
      for (const e of manifest) {
        const data = await readFile(join(out, e.files[0]!.path));
        assert.equal(sha256Hex(data), e.files[0]!.sha256);
      }
    } finally {
      await cleanup();
    }
  });

  test('a run killed mid-write leaves no partial image under a final name, and the resume completes it', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const out = join(dir, 'out');
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, out, '12'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
      // Kill as soon as a few results are saved: other 3 MB images are being written at that moment.
      await new Promise<void>((resolve) => {
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          if (/saved 3\b/.test(text)) resolve();
        });
        child.on('exit', () => resolve());
      });
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL', `the worker ended on its own: ${stderr}`);

      const recorded: ManifestEntry[] = [];
      for await (const e of readManifest(out)) recorded.push(e);
      assert.ok(recorded.length >= 3 && recorded.length < 12, `${recorded.length} lines`);
      const bySha = new Map(recorded.flatMap((e) => e.files.map((f) => [f.path, f.sha256] as const)));
      for (const name of await imagesIn(out)) {
        const data = await readFile(join(out, name));
        assert.ok(isCompletePng(data), `${name} is a complete PNG (${data.length} bytes)`);
        const sha = bySha.get(name);
        if (sha) assert.equal(sha256Hex(data), sha, name);
      }

      await withEmulator({ imageBytes: 3_000_000 }, async (emu) => {
        const prompts = Array.from({ length: 12 }, (_, i) => `killed run prompt ${i}`);
        const summary = await runToDisk(prompts, { apiKey: KEY, baseUrl: emu.url, out, cacheDir: false, concurrency: 4 });
        // The summary describes the folder: every job succeeded, some of them in the killed run.
        assert.equal(summary.succeeded, 12);
        assert.equal(summary.skipped, recorded.length, 'saved jobs are not redone');
        assert.equal(emu.counters.byRoute.generateContent, 12 - recorded.length);
      });
      const names = await readdir(out);
      assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), [], 'orphan temp files are removed');
      assert.equal((await imagesIn(out)).length, 12);
    } finally {
      await cleanup();
    }
  });

  test('two output folders with overlapping prompts pay once; cache hits are marked from: "cache"', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cacheDir = join(dir, 'cache');
      await withEmulator({}, async (emu) => {
        const first = await runToDisk(['a red fox', 'a blue whale', 'a green frog'], { apiKey: KEY, baseUrl: emu.url, out: join(dir, 'one'), cacheDir });
        assert.equal(first.succeeded, 3);
        const second = await runToDisk(['a blue whale', 'a green frog', 'a pink flamingo'], { apiKey: KEY, baseUrl: emu.url, out: join(dir, 'two'), cacheDir });
        assert.equal(second.succeeded, 3);
        assert.equal(second.cached, 2);
        assert.equal(emu.counters.byRoute.generateContent, 4, 'the overlap was not requested again');
        for (const p of ['a red fox', 'a blue whale', 'a green frog', 'a pink flamingo']) assert.equal(emu.requestsForPrompt(p), 1, p);
      });
      const one = new Map((await manifestOf(join(dir, 'one'))).map((e) => [e.prompt, e]));
      const two = new Map((await manifestOf(join(dir, 'two'))).map((e) => [e.prompt, e]));
      for (const p of ['a blue whale', 'a green frog']) {
        const hit = two.get(p)!;
        assert.equal(hit.from, 'cache', p);
        assert.equal(hit.attempts, 0);
        assert.equal(hit.costUsd ?? 0, 0);
        assert.equal(hit.files[0]!.sha256, one.get(p)!.files[0]!.sha256, 'the same image');
        // A hit keeps the thoughtSignature a later edit needs (the default model thinks).
        const sig = await readThoughtSignature(join(dir, 'two'), hit.files[0]!);
        assert.ok(sig && sig.byteLength > 0, 'the cached answer kept its signature');
        assert.deepEqual(sig, await readThoughtSignature(join(dir, 'one'), one.get(p)!.files[0]!));
        const data = await readFile(join(dir, 'two', hit.files[0]!.path));
        assert.equal(sha256Hex(data), hit.files[0]!.sha256);
      }
      assert.equal(two.get('a pink flamingo')!.from, 'api');
    } finally {
      await cleanup();
    }
  });

  test('running again resumes: nothing is re-requested; --fresh semantics start over', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const out = join(dir, 'out');
      const prompts = ['r1 a tulip', 'r2 a tulip', 'r3 a tulip'];
      await withEmulator({ faults: { scripted: [{ match: 'r2', fault: 'http400', times: 1 }] } }, async (emu) => {
        const base = { apiKey: KEY, baseUrl: emu.url, out, cacheDir: false as const };
        const a = await runToDisk(prompts, base);
        assert.equal(a.failed, 1);
        const b = await runToDisk(prompts, base);
        assert.equal(b.skipped, 2, 'succeeded jobs are skipped');
        assert.equal(emu.requestsForPrompt('r2 a tulip'), 2, 'the failed job is tried again');
        assert.equal(emu.requestsForPrompt('r1 a tulip'), 1);
        // A tampered image is not trusted: its job runs again.
        const r1 = (await manifestOf(out)).find((e) => e.prompt === 'r1 a tulip')!;
        await writeFile(join(out, r1.files[0]!.path), 'not the image');
        const c = await runToDisk(prompts, base);
        assert.equal(c.skipped, 2);
        assert.equal(emu.requestsForPrompt('r1 a tulip'), 2);
        // retryFailed re-runs only jobs whose last line is a failure; a job never attempted waits for a plain resume.
        await runToDisk(['r4 a tulip'], { ...base, out: join(dir, 'other') });
        emu.setFaults({ scripted: [{ match: 'r3', fault: 'http400', times: 1 }] });
        await runToDisk(prompts, { ...base, fresh: true });
        const retried = await runToDisk([...prompts, 'r5 never tried'], { ...base, retryFailed: true });
        assert.equal(retried.skipped, 3, 'r1, r2 and the never-tried r5 are passed over');
        assert.equal(emu.requestsForPrompt('r5 never tried'), 0);
        assert.equal((await manifestOf(out)).filter((e) => e.prompt === 'r3 a tulip').at(-1)?.status, 'succeeded');
        const d = await runToDisk(prompts, { ...base, fresh: true });
        assert.equal(d.skipped, 0);
        assert.equal((await manifestOf(out)).length, 3, 'fresh starts a new manifest');
        assert.ok((await stat(join(out, r1.files[0]!.path))).size > 100);
      });
    } finally {
      await cleanup();
    }
  });

  test('a reference image named by path only: sent with its type, and editing the file re-runs the job', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const ref = join(dir, 'photo.jpg');
      await writeFile(ref, Buffer.from('first version of the photo'));
      const jobs = () => [{ prompt: 'make it a watercolour', images: [{ path: ref }] }];
      const spy = spyFetch();
      await withEmulator({}, async (emu) => {
        const base = { apiKey: KEY, baseUrl: emu.url, out: join(dir, 'out'), cacheDir: join(dir, 'cache'), fetch: spy.fetch };
        assert.equal((await runToDisk(jobs(), base)).succeeded, 1);
        const part = (spy.sent.find((r) => r.url.includes(':generateContent'))?.body as { contents: { parts: { inlineData?: { mimeType: string } }[] }[] }).contents[0]!.parts[1];
        assert.equal(part?.inlineData?.mimeType, 'image/jpeg');
        assert.equal((await runToDisk(jobs(), base)).skipped, 1, 'unchanged: resumed');
        await writeFile(ref, Buffer.from('second, edited version'));
        const edited = await runToDisk(jobs(), base);
        assert.equal(edited.skipped, 0, 'edited: a new job');
        assert.equal(edited.cached, 0, 'edited: not served from the cache');
        assert.equal(emu.counters.byRoute.generateContent, 2);
      });
    } finally {
      await cleanup();
    }
  });

  test('malformed input reports every bad line with file:line and sends nothing', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = join(dir, 'bad.jsonl');
      await writeFile(
        file,
        [
          '{"prompt": "fine"}',
          '{"prompt": ',
          '{"no_prompt": "x"}',
          '{"prompt": "ok too"}',
          '{"prompt": "a", "aspectRatio": "7:5"}',
          '["not", "an", "object"]',
        ].join('\n') + '\n',
      );
      await withEmulator({}, async (emu) => {
        const err = await openInput(file).then(
          async (input) => {
            await input.cleanup();
            return undefined;
          },
          (e: unknown) => e,
        );
        assert.ok(err instanceof InputError, `got ${String(err)}`);
        assert.deepEqual(
          err.issues.map((i) => i.line),
          [2, 3, 5, 6],
        );
        for (const i of err.issues) assert.equal(i.file, file);
        for (const line of [2, 3, 5, 6]) assert.ok(err.message.includes(`${file}:${line}:`), `message names ${file}:${line}`);
        assert.equal(err.issues.find((i) => i.line === 5)?.field, 'aspectRatio');
        assert.equal(emu.counters.requests, 0);
      });
    } finally {
      await cleanup();
    }
  });
});
