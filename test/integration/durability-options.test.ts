// Re-running the same prompts into the same folder with other request options keeps every paid image, and
// switching back to the first options pays for nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.ts';
import { sha256Hex } from '../../src/internal/hash.ts';
import { runToDisk } from '../../src/run-disk.ts';
import { emulator, imagesIn, manifestOf, tempDir } from '../helpers/emu.ts';

let emu: Emulator;
let tmp: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  emu = await emulator({ seed: 12 });
  tmp = await tempDir('ib-options-');
});
after(async () => {
  await emu.close();
  await tmp.cleanup();
});

test('only --aspect-ratio changed: both results kept under distinct names; switching back pays nothing', async () => {
  const out = join(tmp.dir, 'out');
  // As the CLI builds them: --aspect-ratio lands in every job (and so in its key).
  const jobs = (aspectRatio: string) => ['a red fox', 'a blue boat'].map((prompt) => ({ prompt, aspectRatio }));
  const common = { out, apiKey: 'k', baseUrl: emu.url, env: {}, cacheDir: false, gallery: false } as const;
  const sent = () => emu.counters.requests;

  let before = sent();
  await runToDisk(jobs('1:1'), common);
  assert.equal(sent() - before, 2);
  before = sent();
  await runToDisk(jobs('16:9'), common);
  assert.equal(sent() - before, 2, 'new options are new requests');
  assert.equal((await imagesIn(out)).length, 4, 'the 1:1 images are still there next to the 16:9 ones');
  for (const e of await manifestOf(out)) {
    for (const f of e.files) assert.equal(sha256Hex(await readFile(join(out, f.path))), f.sha256, `${f.path} still holds what its line recorded`);
  }
  before = sent();
  await runToDisk(jobs('1:1'), common);
  assert.equal(sent() - before, 0, 'switching back finds the 1:1 images (no cache involved)');
});
