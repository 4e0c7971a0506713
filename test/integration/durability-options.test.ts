// Re-running the same prompts into the same folder with other request options keeps every paid image, and
// switching back to the first options pays for nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.ts';
import { sha256Hex } from '../../src/internal/hash.ts';
import { stoppedCounts } from '../../src/cli/generate.ts';
import { summaryLines } from '../../src/cli/progress.ts';
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
  const sent = () => emu.counters.byRoute.generateContent ?? 0;

  let before = sent();
  await runToDisk(jobs('1:1'), common);
  assert.equal(sent() - before, 2);
  before = sent();
  const wide = await runToDisk(jobs('16:9'), common);
  assert.equal(sent() - before, 2, 'new options are new requests');
  // This input, this run and the folder are counted apart (it said "done: 4/2 succeeded").
  assert.deepEqual([wide.total, wide.succeeded, wide.skipped], [2, 2, 0]);
  assert.deepEqual([wide.run?.succeeded, wide.folder?.jobs, wide.folder?.succeeded, wide.folder?.images], [2, 4, 4, 4]);
  assert.match(summaryLines(wide)[0]!, /^done: 2\/2 /);
  assert.ok(summaryLines(wide).some((l) => /folder\s+4 jobs from all runs/.test(l)));
  assert.equal((await imagesIn(out)).length, 4, 'the 1:1 images are still there next to the 16:9 ones');
  for (const e of await manifestOf(out)) {
    for (const f of e.files) assert.equal(sha256Hex(await readFile(join(out, f.path))), f.sha256, `${f.path} still holds what its line recorded`);
  }
  before = sent();
  const back = await runToDisk(jobs('1:1'), common);
  assert.equal(sent() - before, 0, 'switching back finds the 1:1 images (no cache involved)');
  assert.deepEqual([back.total, back.succeeded, back.skipped, back.run?.succeeded, back.folder?.jobs], [2, 2, 2, 0, 4]);
  assert.match(stoppedCounts(back), /^0 saved by this run \(2 of this input's 2 jobs done\)$/);
});

test('damaged manifest lines are reported with their line numbers, in a warning and in summary.json', async () => {
  const out = join(tmp.dir, 'damaged');
  const common = { out, apiKey: 'k', baseUrl: emu.url, env: {}, cacheDir: false, gallery: false } as const;
  await runToDisk(['one kite', 'two kites', 'three kites'], common);
  const path = join(out, 'manifest.jsonl');
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  lines[1] = lines[1]!.slice(0, 20); // a line cut short in the middle of the file
  await writeFile(path, `${lines.join('\n')}\n`);
  const warnings: string[] = [];
  const s = await runToDisk(['one kite', 'two kites', 'three kites'], { ...common, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!, /manifest\.jsonl: 1 damaged line\(s\) skipped \(line 2\)/);
  assert.deepEqual([s.folder?.damaged, s.folder?.damagedLines], [1, [2]]);
  assert.deepEqual([s.succeeded, s.skipped, s.run?.succeeded], [3, 2, 1], 'the job known only from the damaged line ran again');
});
