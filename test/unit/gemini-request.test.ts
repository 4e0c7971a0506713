import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequest, REINFORCE_INSTRUCTION } from '../../src/gemini/request.ts';
import type { Job } from '../../src/types.ts';

const job = (extra: Partial<Job> = {}): Job => ({ key: 'k1', index: 0, prompt: 'A watercolor fox', ...extra });

describe('buildRequest', () => {
  test('plain job: one user turn, TEXT+IMAGE modalities, no imageConfig, no seed', () => {
    assert.deepEqual(buildRequest(job()), {
      contents: [{ role: 'user', parts: [{ text: 'A watercolor fox' }] }],
      generationConfig: { responseModalities: ['TEXT', 'IMAGE'] },
    });
  });

  test('reinforce: IMAGE only and the prompt asks for an image', () => {
    const r = buildRequest(job(), { reinforce: true });
    assert.deepEqual(r.generationConfig?.responseModalities, ['IMAGE']);
    const text = r.contents[0]?.parts?.[0]?.text ?? '';
    assert.ok(text.startsWith('A watercolor fox'));
    assert.ok(text.endsWith(REINFORCE_INSTRUCTION));
  });

  test('imageConfig carries only the fields that are set; the job beats run defaults', () => {
    assert.deepEqual(buildRequest(job(), { aspectRatio: '16:9' }).generationConfig?.imageConfig, { aspectRatio: '16:9' });
    assert.deepEqual(buildRequest(job(), { imageSize: '2K' }).generationConfig?.imageConfig, { imageSize: '2K' });
    assert.deepEqual(buildRequest(job({ aspectRatio: '1:1' }), { aspectRatio: '16:9', imageSize: '4K' }).generationConfig?.imageConfig, {
      aspectRatio: '1:1',
      imageSize: '4K',
    });
    assert.equal('imageConfig' in (buildRequest(job(), {}).generationConfig ?? {}), false);
  });

  test('seed (including 0) goes to generationConfig.seed', () => {
    assert.equal(buildRequest(job({ seed: 42 })).generationConfig?.seed, 42);
    assert.equal(buildRequest(job({ seed: 0 })).generationConfig?.seed, 0);
  });

  test('references become base64 inlineData parts after the prompt, in order', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([9, 8, 7, 6]).subarray(1); // a view with an offset
    const r = buildRequest(job(), { references: [{ data: a, mimeType: 'image/png' }, { data: b, mimeType: 'image/jpeg' }] });
    assert.deepEqual(r.contents[0]?.parts, [
      { text: 'A watercolor fox' },
      { inlineData: { mimeType: 'image/png', data: Buffer.from([1, 2, 3]).toString('base64') } },
      { inlineData: { mimeType: 'image/jpeg', data: Buffer.from([8, 7, 6]).toString('base64') } },
    ]);
  });

  test('systemInstruction is a top-level content', () => {
    assert.deepEqual(buildRequest(job(), { systemInstruction: 'Be bold.' }).systemInstruction, { parts: [{ text: 'Be bold.' }] });
  });

  test('the same job gives the same request (batch and streaming modes agree)', () => {
    const j = job({ seed: 3, aspectRatio: '3:2' });
    assert.equal(JSON.stringify(buildRequest(j)), JSON.stringify(buildRequest({ ...j })));
  });
});
