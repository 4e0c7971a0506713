// The cache saves money but is never worth a run: a broken cache becomes a warning and the run goes on without it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { sha256Hex } from '../../src/internal/hash.ts';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.ts';
import { runToDisk } from '../../src/run-disk.ts';
import type { RunEvent } from '../../src/types.ts';
import { emulator, manifestOf, tempDir } from '../helpers/emu.ts';

let emu: Emulator;
let tmp: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  emu = await emulator({ seed: 5 });
  tmp = await tempDir('ib-cachefail-');
});
after(async () => {
  await emu.close();
  await tmp.cleanup();
});

const prompts = ['a red kite', 'a blue boat', 'a green tree'];

test('a cache folder that cannot be used is a warning, not a failed run', async () => {
  const blocker = join(tmp.dir, 'not-a-folder');
  await writeFile(blocker, 'a file where the cache folder should be');
  const events: RunEvent[] = [];
  const out = join(tmp.dir, 'out1');
  const summary = await runToDisk(prompts, { out, cacheDir: join(blocker, 'cache'), apiKey: 'k', baseUrl: emu.url, env: {}, gallery: false, onEvent: (e) => events.push(e) });
  assert.equal(summary.succeeded, 3);
  const warnings = events.filter((e) => e.type === 'warning');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!.type === 'warning' ? warnings[0]!.message : '', /cache/);
});

test('a blob that vanished from the cache is a miss: the job is requested again and saved', async () => {
  const cacheDir = join(tmp.dir, 'cache2');
  const common = { cacheDir, apiKey: 'k', baseUrl: emu.url, env: {}, gallery: false } as const;
  await runToDisk(prompts, { ...common, out: join(tmp.dir, 'warm') });
  // Remove every blob but keep the entries: lookups still find the entries, reads fail.
  await rm(join(cacheDir, 'blobs'), { recursive: true, force: true });
  const before = (emu.counters.byRoute.generateContent ?? 0);
  const events: RunEvent[] = [];
  const out = join(tmp.dir, 'out2');
  const summary = await runToDisk(prompts, { ...common, out, onEvent: (e) => events.push(e) });
  assert.equal(summary.succeeded, 3);
  assert.equal((emu.counters.byRoute.generateContent ?? 0) - before, 3, 'each job paid again, none lost');
  const entries = await manifestOf(out);
  assert.deepEqual(entries.map((e) => e.from).sort(), ['api', 'api', 'api']);
  assert.equal((await readdir(out)).filter((n) => n.endsWith('.png')).length, 3);
});

test('a cache blob changed in place at the same size is not served: the entry is dropped, one warning, the job is paid for', async () => {
  const cacheDir = join(tmp.dir, 'cache3');
  const common = { cacheDir, apiKey: 'k', baseUrl: emu.url, env: {}, gallery: false } as const;
  await runToDisk(prompts, { ...common, out: join(tmp.dir, 'warm3') });
  // Flip one byte of every blob, keeping the size (the size check alone would serve them).
  const blobs: string[] = [];
  for (const sub of await readdir(join(cacheDir, 'blobs'))) for (const b of await readdir(join(cacheDir, 'blobs', sub))) blobs.push(join(cacheDir, 'blobs', sub, b));
  assert.equal(blobs.length, 3);
  for (const b of blobs) {
    await chmod(b, 0o644);
    const bytes = await readFile(b);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(b, bytes);
  }
  const before = (emu.counters.byRoute.generateContent ?? 0);
  const events: RunEvent[] = [];
  const out = join(tmp.dir, 'out3');
  const summary = await runToDisk(prompts, { ...common, out, onEvent: (e) => events.push(e) });
  assert.equal(summary.succeeded, 3);
  assert.equal((emu.counters.byRoute.generateContent ?? 0) - before, 3, 'every job requested again');
  const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!, /changed on disk/);
  const entries = await manifestOf(out);
  assert.deepEqual(entries.map((e) => e.from), ['api', 'api', 'api']);
  for (const e of entries) assert.equal(sha256Hex(await readFile(join(out, e.files[0]!.path))), e.files[0]!.sha256);
  // The answers were stored again: a third folder is served from the (now sound) cache without a request.
  const again = (emu.counters.byRoute.generateContent ?? 0);
  await runToDisk(prompts, { ...common, out: join(tmp.dir, 'out3b') });
  assert.equal((emu.counters.byRoute.generateContent ?? 0), again);
});
