// Provenance: a saved PNG carries its prompt and key in iTXt chunks; a JPEG gets a sidecar JSON.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readPngText, withPngProvenance } from '../../src/storage/metadata.ts';
import { OutputFolder } from '../../src/storage/output.ts';
import { readThoughtSignature } from '../../src/storage/signature.ts';
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

test('a thoughtSignature goes inside the PNG, after the pixels, byte for byte; a JPEG keeps it in its sidecar', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ib-sig-'));
  roots.push(dir);
  const original = png(6, 3, 7);
  const long = Buffer.from('QUJD'.repeat(50_000)); // 200,000 base64 characters
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
  const results: Result[] = [
    { status: 'succeeded', job: { key: 'p', index: 0, prompt }, model: 'm', attempts: 1, latencyMs: 1, images: [{ mimeType: 'image/png', data: original, thoughtSignature: long, bytes: 0, sha256: '' }], text: [] },
    { status: 'succeeded', job: { key: 'j', index: 1, prompt: 'a jpeg' }, model: 'pro', attempts: 1, latencyMs: 1, images: [{ mimeType: 'image/jpeg', data: jpeg, thoughtSignature: Buffer.from('c2lnbmF0dXJl'), bytes: 0, sha256: '' }], text: [] },
    { status: 'succeeded', job: { key: 'n', index: 2, prompt: 'no signature' }, model: 'm', attempts: 1, latencyMs: 1, images: [{ mimeType: 'image/png', data: png(2, 2, 5), bytes: 0, sha256: '' }], text: [] },
  ];
  const folder = await OutputFolder.open(dir);
  const entries = [];
  for (const r of results) entries.push(await folder.save(r));
  await folder.close();

  // One file per PNG: the signature is in the image, which still decodes to the same pixels.
  const [pngFile, jpegFile, plainFile] = entries.map((e) => e.files[0]!);
  assert.equal(pngFile!.signatureIn, pngFile!.path);
  const written = await readFile(join(dir, pngFile!.path));
  assert.ok(Buffer.from(PNG.sync.read(written).data).equals(Buffer.from(PNG.sync.read(original).data)), 'same pixels');
  assert.ok(written.indexOf('imagebatch:thoughtSignature') > written.indexOf('IDAT'), 'the pixels come first');
  assert.ok(Buffer.from((await readThoughtSignature(dir, pngFile!))!).equals(long));
  // A JPEG: in its provenance sidecar, the one extra file it has anyway.
  assert.equal(jpegFile!.signatureIn, `${jpegFile!.path}.json`);
  assert.equal(Buffer.from((await readThoughtSignature(dir, jpegFile!))!).toString(), 'c2lnbmF0dXJl');
  assert.equal(plainFile!.signatureIn, undefined);
  assert.equal(await readThoughtSignature(dir, plainFile!), undefined);
  assert.deepEqual((await readdir(dir)).filter((n) => !n.startsWith('.')).sort(), [
    '0000-a-cafe-at-night-with-quotes-and-newlines.png',
    '0001-a-jpeg.jpg',
    '0001-a-jpeg.jpg.json',
    '0002-no-signature.png',
    'manifest.jsonl',
  ]);
  // The manifest line names where it is, never the signature itself.
  assert.ok(!(await readFile(join(dir, 'manifest.jsonl'), 'latin1')).includes('QUJDQUJD'));
});

test('readThoughtSignature: an old folder\'s .signature file is still read; an image that lost its record is an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ib-sig-old-'));
  roots.push(dir);
  await writeFile(join(dir, 'a.png.signature'), 'b2xk');
  assert.equal(Buffer.from((await readThoughtSignature(dir, { signature: 'a.png.signature' }))!).toString(), 'b2xk');
  await writeFile(join(dir, 'b.png'), png(2, 2, 1)); // edited: no record left
  await assert.rejects(readThoughtSignature(dir, { signatureIn: 'b.png' }), /no longer holds its thoughtSignature/);
  await assert.rejects(readThoughtSignature(dir, { signatureIn: '../outside.png' }), /outside|escape|folder/i);
});
