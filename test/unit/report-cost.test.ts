import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { costOfUsage, estimateCost, knownModel, unconfirmedPrice } from '../../src/report/cost.ts';
import { normalizeImageSize } from '../../src/models/index.ts';
import type { Usage } from '../../src/types.ts';

const close = (actual: number | undefined, expected: number) => assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);
/** A known model's cost (never undefined). */
const usd = (actual: number | undefined): number => {
  assert.ok(actual !== undefined, 'a known model has a cost');
  return actual;
};

const imageOnly = (imageTokens: number, extra: Partial<Usage> = {}): Usage => ({
  promptTokens: 0,
  candidatesTokens: imageTokens,
  thoughtsTokens: 0,
  imageTokens,
  totalTokens: imageTokens,
  ...extra,
});

describe('estimateCost', () => {
  test('2.5-flash-image: $0.039 per image, half in batch', () => {
    close(estimateCost('gemini-2.5-flash-image', 1), 0.039);
    close(estimateCost('gemini-2.5-flash-image', 1, { mode: 'batch' }), 0.0195);
    close(estimateCost('gemini-2.5-flash-image', 100), 3.9);
  });
  test('3-pro-image: $0.134 for 1K and 2K, $0.24 for 4K', () => {
    close(estimateCost('gemini-3-pro-image', 1, { imageSize: '1K' }), 0.134);
    close(estimateCost('gemini-3-pro-image', 1, { imageSize: '2K' }), 0.134);
    close(estimateCost('gemini-3-pro-image', 1, { imageSize: '4K' }), 0.24);
    close(estimateCost('gemini-3-pro-image', 10, { imageSize: '4k', mode: 'batch' }), 1.2);
  });
  test('3.1-flash-image: the quoted price per size, $0.045 (512) to $0.151 (4K)', () => {
    close(estimateCost('gemini-3.1-flash-image', 1, { imageSize: '512' }), 0.045);
    close(estimateCost('gemini-3.1-flash-image', 1, { imageSize: '1K' }), 0.067);
    close(estimateCost('gemini-3.1-flash-image', 1, { imageSize: '4K' }), 0.151);
    assert.ok(unconfirmedPrice('gemini-3.1-flash-image'));
    assert.ok(!unconfirmedPrice('gemini-3-pro-image'));
  });
  test('the default model: $0.0336 per 1K image unless a size is asked', () => {
    close(estimateCost('gemini-nano-banana-2.1', 1), 0.0336);
    close(estimateCost('gemini-nano-banana-2.1', 1, { imageSize: '4K' }), 0.1134);
    close(estimateCost('gemini-3.1-flash-lite-image', 2, { mode: 'batch' }), 0.0336);
  });
  test('input tokens are added at the input rate', () => {
    close(estimateCost('gemini-2.5-flash-image', 2, { promptTokens: 1000 }), 2 * (0.039 + 0.0003));
  });
  test('unknown models and zero images cost 0', () => {
    assert.equal(estimateCost('some-future-model', 10), 0);
    assert.equal(estimateCost('gemini-2.5-flash-image', 0), 0);
    assert.equal(estimateCost('gemini-3-pro-image-preview', 3), 0, 'a shut-down model has no price');
  });
  test('a size the model has no price for counts as the next larger one, never less', () => {
    close(estimateCost('gemini-3-pro-image', 1, { imageSize: '512' }), 0.134);
    close(estimateCost('gemini-nano-banana-2.1', 1, { imageSize: '512' }), 0.0336);
    close(estimateCost('gemini-3.1-flash-lite-image', 1, { imageSize: '4K' }), 0.0336);
    close(estimateCost('gemini-3-pro-image', 1, { imageSize: 'huge' }), 0.134);
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
    close(costOfUsage('gemini-3-pro-image', usage), expected);
    close(costOfUsage('models/Gemini-3-Pro-Image', usage, 'batch'), expected / 2);
    close(costOfUsage('gemini-3-pro-image', imageOnly(2000)), 0.24);
  });
  test('a blocked answer with no image tokens costs (almost) nothing', () => {
    const blocked: Usage = { promptTokens: 12, candidatesTokens: 0, thoughtsTokens: 0, imageTokens: 0, totalTokens: 12 };
    assert.ok(usd(costOfUsage('gemini-2.5-flash-image', blocked)) < 0.00001);
    assert.equal(costOfUsage('gemini-2.5-flash-image', undefined), 0);
  });
  test('missing usage with a returned image falls back to the list price of the size asked', () => {
    close(costOfUsage('gemini-2.5-flash-image', undefined, 'interactive', 1), 0.039);
    close(costOfUsage('gemini-3-pro-image', undefined, 'interactive', 2, '4K'), 0.48);
    close(costOfUsage('gemini-3-pro-image', undefined, 'batch', 1, '4K'), 0.12);
  });
  test('images without a per-modality breakdown are billed at list price, not at the text rate', () => {
    // 2000 output tokens of which the API did not say which were image: 1 image at 4K list price + 0 text.
    const noBreakdown: Usage = { promptTokens: 100, candidatesTokens: 2000, thoughtsTokens: 300, imageTokens: 0, totalTokens: 2400 };
    close(costOfUsage('gemini-3-pro-image', noBreakdown, 'interactive', 1, '4K'), 0.24 + (100 * 2 + 300 * 12) / 1e6);
    // The same answer at 1K leaves 880 tokens that were not the image: they count as text output.
    close(costOfUsage('gemini-3-pro-image', noBreakdown, 'interactive', 1, '1K'), 0.134 + (100 * 2 + (300 + 880) * 12) / 1e6);
    assert.ok(usd(costOfUsage('gemini-nano-banana-2.1', noBreakdown, 'interactive', 1)) >= 0.0336);
  });
  test('the cost of a model the registry does not know is unknown (not $0) unless the caller gives a price per image', () => {
    assert.equal(costOfUsage('mystery-model', imageOnly(1290), 'interactive', 1), undefined);
    assert.equal(costOfUsage('mystery-model', imageOnly(1290), 'interactive', 2, undefined, 0.05), 0.1);
    assert.equal(knownModel('mystery-model'), false);
    assert.equal(knownModel('gemini-2.5-flash-image'), true);
    assert.equal(knownModel('models/GEMINI-NANO-BANANA-2.1'), true);
    assert.equal(knownModel('gemini-3-pro-image-preview'), false, 'shut down: no price');
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
