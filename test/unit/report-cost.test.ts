import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { costOfUsage, estimateCost, knownModel, normalizeImageSize, unconfirmedPrice } from '../../src/report/cost.ts';
import type { Usage } from '../../src/types.ts';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

const imageOnly = (imageTokens: number, extra: Partial<Usage> = {}): Usage => ({
  promptTokens: 0,
  candidatesTokens: imageTokens,
  thoughtsTokens: 0,
  imageTokens,
  totalTokens: imageTokens,
  ...extra,
});

describe('estimateCost', () => {
  test('gemini-2.5-flash-image: $0.039 per image, $0.0195 in batch', () => {
    close(estimateCost('gemini-2.5-flash-image', 1), 0.039);
    close(estimateCost('gemini-2.5-flash-image', 1, { mode: 'batch' }), 0.0195);
    close(estimateCost('gemini-2.5-flash-image', 100), 3.9);
  });
  test('gemini-3-pro-image-preview: $0.134 at 1K and 2K, $0.24 at 4K, half in batch', () => {
    close(estimateCost('gemini-3-pro-image-preview', 1, { imageSize: '1K' }), 0.134);
    close(estimateCost('gemini-3-pro-image-preview', 1, { imageSize: '2K' }), 0.134);
    close(estimateCost('gemini-3-pro-image-preview', 1, { imageSize: '4K' }), 0.24);
    close(estimateCost('gemini-3-pro-image-preview', 10, { imageSize: '4k', mode: 'batch' }), 1.2);
  });
  test('gemini-3.1-flash-image-preview spans $0.045 (512) to $0.151 (4K)', () => {
    close(estimateCost('gemini-3.1-flash-image-preview', 1, { imageSize: '512' }), 0.045);
    close(estimateCost('gemini-3.1-flash-image-preview', 1, { imageSize: '4K' }), 0.151);
    assert.ok(unconfirmedPrice('gemini-3.1-flash-image-preview'));
  });
  test('prompt tokens are added at the input rate, per request', () => {
    // 1000 prompt tokens at $0.30/1M = $0.0003 per request.
    close(estimateCost('gemini-2.5-flash-image', 2, { promptTokens: 1000 }), 2 * (0.039 + 0.0003));
  });
  test('unknown model or no images costs 0', () => {
    assert.equal(estimateCost('some-future-model', 10), 0);
    assert.equal(estimateCost('gemini-2.5-flash-image', 0), 0);
  });
  test('a size a model does not list falls back to a listed one, not to 0', () => {
    close(estimateCost('gemini-3-pro-image-preview', 1, { imageSize: '512' }), 0.134);
    close(estimateCost('gemini-3-pro-image-preview', 1, { imageSize: 'huge' }), 0.134);
  });
});

describe('costOfUsage', () => {
  test('1290 image tokens on 2.5-flash-image is $0.0387 ($30/1M), half in batch', () => {
    close(costOfUsage('gemini-2.5-flash-image', imageOnly(1290)), 0.0387);
    close(costOfUsage('gemini-2.5-flash-image', imageOnly(1290), 'batch'), 0.01935);
  });
  test('pro: image tokens at $120/1M, thoughts and text at $12/1M, input at $2/1M', () => {
    const usage: Usage = { promptTokens: 1000, candidatesTokens: 1120 + 100, thoughtsTokens: 400, imageTokens: 1120, totalTokens: 2620 };
    const expected = (1000 * 2 + (100 + 400) * 12 + 1120 * 120) / 1e6;
    close(costOfUsage('gemini-3-pro-image-preview', usage), expected);
    close(costOfUsage('models/gemini-3-pro-image-preview', usage, 'batch'), expected / 2);
    close(costOfUsage('gemini-3-pro-image-preview', imageOnly(2000)), 0.24);
  });
  test('a blocked answer with no image tokens costs (almost) nothing', () => {
    const blocked: Usage = { promptTokens: 12, candidatesTokens: 0, thoughtsTokens: 0, imageTokens: 0, totalTokens: 12 };
    assert.ok(costOfUsage('gemini-2.5-flash-image', blocked) < 0.00001);
    assert.equal(costOfUsage('gemini-2.5-flash-image', undefined), 0);
  });
  test('missing usage with a returned image falls back to the list price; Imagen is per image', () => {
    close(costOfUsage('gemini-2.5-flash-image', undefined, 'interactive', 1), 0.039);
    close(costOfUsage('imagen-4.0-generate-001', undefined, 'interactive', 2), 0.08);
    close(costOfUsage('imagen-4.0-generate-001', undefined, 'batch', 1), 0.04);
  });
  test('unknown model costs 0 and is flagged', () => {
    assert.equal(costOfUsage('mystery-model', imageOnly(1290)), 0);
    assert.equal(knownModel('mystery-model'), false);
    assert.equal(knownModel('gemini-2.5-flash-image'), true);
    assert.equal(knownModel('models/gemini-2.5-flash-image-preview'), true);
    assert.equal(knownModel('gemini-3-pro-image'), true);
  });
});

test('normalizeImageSize accepts common spellings', () => {
  assert.equal(normalizeImageSize('1k'), '1K');
  assert.equal(normalizeImageSize('512px'), '512');
  assert.equal(normalizeImageSize('0.5K'), '512');
  assert.equal(normalizeImageSize('4096'), '4K');
  assert.equal(normalizeImageSize('8K'), undefined);
  assert.equal(normalizeImageSize(undefined), undefined);
});
