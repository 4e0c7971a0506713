// Provenance: a saved PNG carries its prompt and key in iTXt chunks; a JPEG gets a sidecar JSON.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readPngText, withPngProvenance } from '../../src/storage/metadata.ts';
import { OutputFolder } from '../../src/storage/output.ts';
import type { Result } from '../../src/types.ts';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

function png(width: number, height: number, seed: number): Buffer {
  const img = new PNG({ width, height });
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * seed) % 256;
  return PNG.sync.write(img);
}

const prompt = 'a café at night 🌙 with "quotes" and\nnewlines';

test('the PNG keeps its pixels and gains Description, Software and an imagebatch record', () => {
  const original = png(7, 5, 13);
  const tagged = withPngProvenance(original, { prompt, key: 'k-1', model: 'gemini-2.5-flash-image', variant: 2 });
  assert.ok(tagged.length > original.length);
  const before = PNG.sync.read(original);
  const after = PNG.sync.read(Buffer.from(tagged)); // pngjs checks every chunk CRC
  assert.deepEqual([after.width, after.height], [7, 5]);
  assert.ok(Buffer.from(after.data).equals(Buffer.from(before.data)), 'same pixels');
  const text = readPngText(tagged);
  assert.equal(text.Description, prompt);
  assert.equal(text.Software, 'imagebatch');
  assert.deepEqual(JSON.parse(text.imagebatch ?? '{}'), { key: 'k-1', model: 'gemini-2.5-flash-image', variant: 2 });
});

test('bytes that are not a PNG are returned unchanged', () => {
  const notPng = Buffer.from('definitely not a png, but long enough to pass a length check');
  assert.equal(withPngProvenance(notPng, { prompt, key: 'k', model: 'm' }), notPng);
});

test('OutputFolder writes tagged PNGs (hash of the written bytes) and a sidecar for JPEG; --fresh removes both', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ib-meta-'));
  roots.push(dir);
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
  const results: Result[] = [
    { status: 'succeeded', job: { key: 'p', index: 0, prompt }, model: 'm', attempts: 1, latencyMs: 1, images: [{ mimeType: 'image/png', data: png(4, 4, 3), bytes: 0, sha256: '' }], text: [] },
    { status: 'succeeded', job: { key: 'j', index: 1, prompt: 'a jpeg' }, model: 'pro', attempts: 1, latencyMs: 1, images: [{ mimeType: 'image/jpeg', data: jpeg, bytes: 0, sha256: '' }], text: [] },
  ];
  const folder = await OutputFolder.open(dir);
  const entries = [];
  for (const r of results) entries.push(await folder.save(r));
  await folder.close();

  const pngFile = entries[0]!.files[0]!;
  const written = await readFile(join(dir, pngFile.path));
  assert.equal(readPngText(written).Description, prompt);
  assert.equal(pngFile.bytes, written.length, 'the manifest records the bytes as written');
  const jpegFile = entries[1]!.files[0]!;
  assert.ok((await readFile(join(dir, jpegFile.path))).equals(jpeg), 'JPEG bytes untouched');
  const sidecar = JSON.parse(await readFile(join(dir, `${jpegFile.path}.json`), 'utf8')) as Record<string, unknown>;
  assert.deepEqual([sidecar.prompt, sidecar.key, sidecar.model, sidecar.image], ['a jpeg', 'j', 'pro', jpegFile.path]);

  const again = await OutputFolder.open(dir, { fresh: true });
  await again.close();
  // Only the new, empty manifest is left: images and the sidecar are gone.
  assert.deepEqual((await readdir(dir)).filter((n) => !n.startsWith('.')), ['manifest.jsonl']);
  assert.equal(await readFile(join(dir, 'manifest.jsonl'), 'utf8'), '');
});
