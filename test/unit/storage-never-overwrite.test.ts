// The output folder never replaces what this job did not write: users' files, edited images, other jobs' images,
// links and directories keep their names; a symbolic-link manifest is refused instead of written through.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../../src/errors.ts';
import { sha256Hex } from '../../src/internal/hash.ts';
import { MANIFEST_FILE, readManifest, type ManifestEntry } from '../../src/storage/manifest.ts';
import { OutputFolder } from '../../src/storage/output.ts';
import type { Job, SucceededResult } from '../../src/types.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-keep-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = () => mkdtemp(join(root, `k${n++}-`));

function result(key: string, prompt: string, data: string, mimeType = 'image/png'): SucceededResult {
  const job: Job = { key, index: 0, prompt };
  return { status: 'succeeded', job, model: 'm', attempts: 1, latencyMs: 1, images: [{ mimeType, data: Buffer.from(data), bytes: 0, sha256: '' }], text: [], from: 'api' };
}
async function entries(dir: string): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for await (const e of readManifest(dir)) out.push(e);
  return out;
}
async function saveOne(dir: string, r: SucceededResult): Promise<ManifestEntry> {
  const folder = await OutputFolder.open(dir);
  try {
    return await folder.save(r);
  } finally {
    await folder.close();
  }
}

test('a user file at the output name is kept; the image is saved as -2 and the manifest says so', async () => {
  const dir = await fresh();
  await writeFile(join(dir, '0000-a-red-fox.png'), 'my own drawing');
  const e = await saveOne(dir, result('k1', 'a red fox', 'paid image'));
  assert.equal(e.status, 'succeeded');
  assert.equal(e.files[0]!.path, '0000-a-red-fox-2.png');
  assert.equal(await readFile(join(dir, '0000-a-red-fox.png'), 'utf8'), 'my own drawing');
  assert.equal(sha256Hex(await readFile(join(dir, '0000-a-red-fox-2.png'))), e.files[0]!.sha256);
});

test("another job's image at the name (same prompt, other options) is kept: both results stay, each line points at its own file", async () => {
  const dir = await fresh();
  const square = await saveOne(dir, result('key-square', 'a red fox', 'the 1:1 image'));
  const wide = await saveOne(dir, result('key-wide', 'a red fox', 'the 16:9 image'));
  assert.equal(square.files[0]!.path, '0000-a-red-fox.png');
  assert.equal(wide.files[0]!.path, '0000-a-red-fox-2.png');
  for (const e of await entries(dir)) assert.equal(sha256Hex(await readFile(join(dir, e.files[0]!.path))), e.files[0]!.sha256);
});

test("this job's own earlier file (same key, bytes as recorded) is replaced in place; an edited one is kept", async () => {
  const dir = await fresh();
  const first = await saveOne(dir, result('k1', 'a red fox', 'first answer'));
  const again = await saveOne(dir, result('k1', 'a red fox', 'second answer'));
  assert.equal(again.files[0]!.path, first.files[0]!.path, 'own file: same name');
  // The user edits it: it is theirs now.
  await writeFile(join(dir, first.files[0]!.path), 'edited by hand');
  const third = await saveOne(dir, result('k1', 'a red fox', 'third answer'));
  assert.equal(third.files[0]!.path, '0000-a-red-fox-2.png');
  assert.equal(await readFile(join(dir, first.files[0]!.path), 'utf8'), 'edited by hand');
});

test('a symbolic link at the output name is neither followed nor replaced', async () => {
  const dir = await fresh();
  const outside = join(await fresh(), 'precious.png');
  await writeFile(outside, 'outside the folder');
  await symlink(outside, join(dir, '0000-a-red-fox.png'));
  const e = await saveOne(dir, result('k1', 'a red fox', 'paid image'));
  assert.equal(e.files[0]!.path, '0000-a-red-fox-2.png');
  assert.equal(await readlink(join(dir, '0000-a-red-fox.png')), outside);
  assert.equal(await readFile(outside, 'utf8'), 'outside the folder');
});

test("a non-PNG image needs its sidecar's name free too", async () => {
  const dir = await fresh();
  await writeFile(join(dir, '0000-a-red-fox.jpg.json'), '{"mine": true}');
  const e = await saveOne(dir, result('k1', 'a red fox', 'jpeg bytes', 'image/jpeg'));
  assert.equal(e.files[0]!.path, '0000-a-red-fox-2.jpg');
  assert.equal(await readFile(join(dir, '0000-a-red-fox.jpg.json'), 'utf8'), '{"mine": true}');
  assert.ok((await lstat(join(dir, '0000-a-red-fox-2.jpg.json'))).isFile());
});

test("an image whose thought signature goes to a sidecar needs the sidecar's name free too", async () => {
  const dir = await fresh();
  await writeFile(join(dir, '0000-a-red-fox.png.json'), 'my notes');
  // Not a readable PNG, so its provenance and signature cannot go inside it: they go to `<image>.json`.
  const r = result('k1', 'a red fox', 'paid image');
  r.images[0]!.thoughtSignature = Buffer.from('c2lnbmF0dXJl');
  const e = await saveOne(dir, r);
  assert.equal(e.files[0]!.path, '0000-a-red-fox-2.png');
  assert.equal(e.files[0]!.signatureIn, '0000-a-red-fox-2.png.json');
  assert.equal(await readFile(join(dir, '0000-a-red-fox.png.json'), 'utf8'), 'my notes');
  assert.equal((JSON.parse(await readFile(join(dir, '0000-a-red-fox-2.png.json'), 'utf8')) as { thoughtSignature: string }).thoughtSignature, 'c2lnbmF0dXJl');
});

test('a directory at the output name fails that job (output_conflict) and the folder goes on', async () => {
  const dir = await fresh();
  await mkdir(join(dir, '0000-a-red-fox.png'));
  await writeFile(join(dir, '0000-a-red-fox.png', 'inside.txt'), 'keep');
  const folder = await OutputFolder.open(dir);
  try {
    const blocked = await folder.save(result('k1', 'a red fox', 'paid image'));
    assert.equal(blocked.status, 'failed');
    assert.equal(blocked.reason, 'output_conflict');
    assert.match(blocked.message ?? '', /0000-a-red-fox\.png is a directory/);
    const next = await folder.save({ ...result('k2', 'a blue boat', 'other image'), job: { key: 'k2', index: 1, prompt: 'a blue boat' } });
    assert.equal(next.status, 'succeeded');
  } finally {
    await folder.close();
  }
  assert.equal(await readFile(join(dir, '0000-a-red-fox.png', 'inside.txt'), 'utf8'), 'keep');
});

test('two jobs in flight wanting the same name get different names', async () => {
  const dir = await fresh();
  const folder = await OutputFolder.open(dir);
  try {
    const [a, b] = await Promise.all([folder.save(result('ka', 'a red fox', 'image a')), folder.save(result('kb', 'a red fox', 'image b'))]);
    assert.notEqual(a.files[0]!.path, b.files[0]!.path);
  } finally {
    await folder.close();
  }
});

test('a symbolic-link manifest.jsonl is refused with a sentence; nothing is written through it', async () => {
  const dir = await fresh();
  const outside = join(await fresh(), 'elsewhere.jsonl');
  await writeFile(outside, 'not ours\n');
  await symlink(outside, join(dir, MANIFEST_FILE));
  await assert.rejects(OutputFolder.open(dir), (e: unknown) => e instanceof StorageError && /is a symbolic link/.test(e.message));
  assert.equal(await readFile(outside, 'utf8'), 'not ours\n');
  assert.deepEqual((await readdir(dir)).sort(), [MANIFEST_FILE]);
  // A dangling link is refused too (appending would create the file wherever it points).
  const dir2 = await fresh();
  const target = join(await fresh(), 'created-through-link.jsonl');
  await symlink(target, join(dir2, MANIFEST_FILE));
  await assert.rejects(OutputFolder.open(dir2), (e: unknown) => e instanceof StorageError && /symbolic link/.test(e.message));
  await assert.rejects(lstat(target), /ENOENT/);
});
