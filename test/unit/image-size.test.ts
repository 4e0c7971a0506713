import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { imageDimensions, sizeMismatch } from '../../src/internal/image-size.ts';
import { recorded } from '../helpers/replay.ts';

const png = (width: number, height: number) => PNG.sync.write(new PNG({ width, height }));
const jpg = (width: number, height: number) => jpeg.encode({ data: Buffer.alloc(width * height * 4, 128), width, height }, 50).data;

describe('imageDimensions', () => {
  test('PNG IHDR and JPEG SOF, as encoders write them', () => {
    assert.deepEqual(imageDimensions(png(37, 11)), { width: 37, height: 11 });
    assert.deepEqual(imageDimensions(jpg(48, 17)), { width: 48, height: 17 });
  });

  test('the real recorded Gemini PNG is 510×1024', () => {
    const body = JSON.parse(recorded('200-generate-image-png').body.toString('utf8')) as { candidates: { content: { parts: { inlineData?: { data: string } }[] } }[] };
    const part = body.candidates[0]!.content.parts.find((p) => p.inlineData);
    assert.ok(part?.inlineData);
    assert.deepEqual(imageDimensions(Buffer.from(part.inlineData.data, 'base64')), { width: 510, height: 1024 });
  });

  test('a JPEG with APPn segments before the frame; cut or unknown bytes give undefined', () => {
    const j = jpg(20, 10);
    const app1 = Buffer.from([0xff, 0xe1, 0x00, 0x06, 1, 2, 3, 4]);
    assert.deepEqual(imageDimensions(Buffer.concat([j.subarray(0, 2), app1, j.subarray(2)])), { width: 20, height: 10 });
    assert.equal(imageDimensions(j.subarray(0, 10)), undefined);
    assert.equal(imageDimensions(png(5, 5).subarray(0, 20)), undefined);
    assert.equal(imageDimensions(Buffer.from('GIF89a......')), undefined);
  });
});

describe('sizeMismatch', () => {
  test('Google\'s published sizes match what was asked', () => {
    assert.equal(sizeMismatch({ width: 1024, height: 1024 }, { imageSize: '1K', aspectRatio: '1:1' }), undefined);
    assert.equal(sizeMismatch({ width: 1376, height: 768 }, { imageSize: '1K', aspectRatio: '16:9' }), undefined);
    assert.equal(sizeMismatch({ width: 1584, height: 672 }, { aspectRatio: '21:9' }), undefined);
    assert.equal(sizeMismatch({ width: 5504, height: 3072 }, { imageSize: '4K', aspectRatio: '16:9' }), undefined);
    assert.equal(sizeMismatch({ width: 123, height: 45 }, {}), undefined, 'nothing asked, nothing to flag');
  });

  test('imageSize silently ignored, or another ratio, is flagged with the real size', () => {
    assert.equal(sizeMismatch({ width: 1024, height: 1024 }, { imageSize: '4K' }), 'asked for imageSize 4K, got 1024×1024');
    assert.equal(sizeMismatch({ width: 1024, height: 1024 }, { imageSize: '2K', aspectRatio: '16:9' }), 'asked for imageSize 2K and aspectRatio 16:9, got 1024×1024');
    assert.equal(sizeMismatch({ width: 510, height: 1024 }, { aspectRatio: '1:1' }), 'asked for aspectRatio 1:1, got 510×1024');
  });
});
