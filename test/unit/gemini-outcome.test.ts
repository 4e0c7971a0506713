import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeFromError, outcomeFromResponse } from '../../src/gemini/outcome.ts';
import { createRedactor } from '../../src/internal/redact.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 9, 9]);
const b64 = (b: Buffer) => b.toString('base64');

function answer(parts: unknown[] | undefined, extra: Record<string, unknown> = {}, candidate: Record<string, unknown> = {}) {
  return {
    candidates: [{ content: parts === undefined ? { role: 'model' } : { role: 'model', parts }, finishReason: 'STOP', index: 0, ...candidate }],
    ...extra,
  };
}

describe('outcomeFromResponse', () => {
  test('text + PNG → image with decoded bytes, text, usage and ids', () => {
    const o = outcomeFromResponse(
      answer([{ text: 'Here is your fox' }, { inlineData: { mimeType: 'image/png', data: b64(PNG) } }], {
        usageMetadata: {
          promptTokenCount: 15,
          candidatesTokenCount: 1318,
          totalTokenCount: 1333,
          candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 1290 }, { modality: 'TEXT', tokenCount: 28 }],
        },
        modelVersion: 'gemini-2.5-flash-image',
        responseId: 'r1',
      }),
    );
    assert.equal(o.kind, 'image');
    if (o.kind !== 'image') return;
    assert.equal(o.images.length, 1);
    assert.equal(o.images[0]?.mimeType, 'image/png');
    assert.deepEqual(Buffer.from(o.images[0]!.data), PNG);
    assert.ok(o.images[0]!.data instanceof Uint8Array);
    assert.deepEqual(o.text, ['Here is your fox']);
    assert.deepEqual(o.usage, { promptTokens: 15, candidatesTokens: 1318, thoughtsTokens: 0, imageTokens: 1290, totalTokens: 1333 });
    assert.equal(o.modelVersion, 'gemini-2.5-flash-image');
    assert.equal(o.responseId, 'r1');
  });

  test('JPEG is kept with its mime type', () => {
    const o = outcomeFromResponse(answer([{ inlineData: { mimeType: 'image/jpeg', data: b64(JPEG) }, thoughtSignature: 'EqC' }]));
    assert.equal(o.kind, 'image');
    if (o.kind === 'image') {
      assert.equal(o.images[0]?.mimeType, 'image/jpeg');
      assert.deepEqual(Buffer.from(o.images[0]!.data), JPEG);
    }
  });

  test('thought images and thought text are never results; the final image is kept', () => {
    const interim = Buffer.from('interim-image');
    const o = outcomeFromResponse(
      answer(
        [
          { text: '**Composing**', thought: true },
          { inlineData: { mimeType: 'image/png', data: b64(interim) }, thought: true },
          { text: 'Final words' },
          { inlineData: { mimeType: 'image/jpeg', data: b64(JPEG) }, thoughtSignature: 'sig' },
        ],
        { usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1120, thoughtsTokenCount: 155, totalTokenCount: 1280 } },
      ),
    );
    assert.equal(o.kind, 'image');
    if (o.kind !== 'image') return;
    assert.equal(o.images.length, 1);
    assert.deepEqual(Buffer.from(o.images[0]!.data), JPEG);
    assert.deepEqual(o.text, ['Final words']);
    assert.equal(o.usage?.thoughtsTokens, 155);
  });

  test('only a thought image → no_image (an interim image is not a result)', () => {
    const o = outcomeFromResponse(answer([{ inlineData: { mimeType: 'image/png', data: b64(PNG) }, thought: true }]));
    assert.equal(o.kind, 'no_image');
  });

  test('text-only STOP → no_image with the text', () => {
    const o = outcomeFromResponse(answer([{ text: 'I cannot draw that, but here is a poem.' }]));
    assert.deepEqual(o, { kind: 'no_image', text: ['I cannot draw that, but here is a poem.'], finishReason: 'STOP' });
  });

  test('an image part that decodes to 0 bytes is absent', () => {
    const o = outcomeFromResponse(answer([{ inlineData: { mimeType: 'image/png', data: '' } }]));
    assert.equal(o.kind, 'no_image');
  });

  test('non-image inlineData is not an image', () => {
    const o = outcomeFromResponse(answer([{ inlineData: { mimeType: 'audio/wav', data: b64(PNG) } }]));
    assert.equal(o.kind, 'no_image');
  });

  test('IMAGE_SAFETY with empty content → blocked with finishMessage', () => {
    const msg = 'Unable to show the generated image. You will not be charged for blocked images.';
    const o = outcomeFromResponse({ candidates: [{ content: {}, finishReason: 'IMAGE_SAFETY', finishMessage: msg, index: 0 }] });
    assert.deepEqual(o, { kind: 'blocked', blockReason: 'IMAGE_SAFETY', message: msg });
  });

  test('every safety-family finishReason without an image is blocked; parts: null is tolerated', () => {
    for (const r of ['SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION', 'IMAGE_RECITATION']) {
      const o = outcomeFromResponse({ candidates: [{ content: { parts: null }, finishReason: r }] });
      assert.equal(o.kind, 'blocked', r);
      if (o.kind === 'blocked') assert.equal(o.blockReason, r);
    }
  });

  test('NO_IMAGE / OTHER / IMAGE_OTHER keep text and finishMessage as no_image', () => {
    for (const r of ['NO_IMAGE', 'OTHER', 'IMAGE_OTHER']) {
      const o = outcomeFromResponse(answer([{ text: 'why not' }], {}, { finishReason: r, finishMessage: 'declined' }));
      assert.deepEqual(o, { kind: 'no_image', text: ['why not'], finishReason: r, message: 'declined' });
    }
  });

  test('promptFeedback.blockReason with no candidates → blocked, usage kept', () => {
    const o = outcomeFromResponse({
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT', blockReasonMessage: 'nope' },
      usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 },
    });
    assert.equal(o.kind, 'blocked');
    if (o.kind !== 'blocked') return;
    assert.equal(o.blockReason, 'PROHIBITED_CONTENT');
    assert.equal(o.message, 'nope');
    assert.equal(o.usage?.promptTokens, 7);
  });

  test('MAX_TOKENS with content lacking parts → no_image', () => {
    const o = outcomeFromResponse({ candidates: [{ content: { role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 }] });
    assert.deepEqual(o, { kind: 'no_image', text: [], finishReason: 'MAX_TOKENS' });
  });

  test('empty candidates and no feedback → no_image without finishReason', () => {
    assert.deepEqual(outcomeFromResponse({ candidates: [] }), { kind: 'no_image', text: [] });
    assert.deepEqual(outcomeFromResponse({}), { kind: 'no_image', text: [] });
  });

  test('a non-object body is a network error; an error envelope in a 200 is an error', () => {
    assert.equal(outcomeFromResponse(null).kind, 'error');
    assert.equal(outcomeFromResponse([1, 2]).kind, 'error');
    const o = outcomeFromResponse({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } });
    assert.equal(o.kind, 'error');
    if (o.kind === 'error') assert.equal(o.reason, 'server');
  });
});

const QUOTA_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. \n* Quota exceeded for metric: ' +
  'generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-flash-preview-image\n' +
  'Please retry in 47.884324799s.';

function errorBody(code: number, status: string, message: string, details?: unknown[]): string {
  return JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });
}

const help = { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'quota', url: 'https://ai.google.dev' }] };
const retryInfo = (d: string) => ({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: d });
const quotaFailure = (...violations: object[]) => ({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations });

describe('outcomeFromError', () => {
  test('429 with Help, QuotaFailure, RetryInfo (in either order) and a fractional delay', () => {
    const qf = quotaFailure({
      quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
      quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
      quotaDimensions: { location: 'global', model: 'gemini-2.5-flash-preview-image' },
    });
    for (const details of [[help, qf, retryInfo('45.837906927s')], [retryInfo('45.837906927s'), qf, help]]) {
      const o = outcomeFromError(429, errorBody(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE, details));
      assert.equal(o.reason, 'quota');
      assert.equal(o.httpStatus, 429);
      assert.equal(o.status, 'RESOURCE_EXHAUSTED');
      assert.equal(o.retryAfterMs, 45838); // RetryInfo wins over the sentence
      assert.equal(o.quotaId, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
      assert.equal(o.quotaMetric, 'generativelanguage.googleapis.com/generate_content_free_tier_requests');
      assert.equal(o.quotaLimit, 0); // from "limit: 0" in the message
      assert.match(o.message, /You exceeded your current quota/);
    }
  });

  test('429 with only the "Please retry in" sentence', () => {
    const o = outcomeFromError(429, errorBody(429, 'RESOURCE_EXHAUSTED', 'Too many. Please retry in 47.88s.'));
    assert.equal(o.retryAfterMs, 47880);
    assert.equal(o.quotaId, undefined);
  });

  test('Retry-After header in seconds and as an HTTP date', () => {
    const body = errorBody(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
    assert.equal(outcomeFromError(503, body, new Headers({ 'retry-after': '12' })).retryAfterMs, 12000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    const h = new Headers({ 'retry-after': new Date(now + 90_000).toUTCString() });
    assert.equal(outcomeFromError(503, body, h, { now }).retryAfterMs, 90_000);
    const past = new Headers({ 'retry-after': new Date(now - 5_000).toUTCString() });
    assert.equal(outcomeFromError(503, body, past, { now }).retryAfterMs, 0);
    assert.equal(outcomeFromError(503, body).retryAfterMs, undefined);
  });

  test('every violation is kept; quotaId is the per-minute one the short delay is about', () => {
    const o = outcomeFromError(
      429,
      errorBody(429, 'RESOURCE_EXHAUSTED', 'quota', [
        quotaFailure(
          { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel', quotaValue: '500' },
          { quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaValue: '250', quotaMetric: 'm/day' },
        ),
        retryInfo('22s'),
      ]),
    );
    assert.equal(o.quotaId, 'GenerateRequestsPerMinutePerProjectPerModel');
    assert.equal(o.quotaLimit, 500);
    assert.deepEqual(o.violations, [
      { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel', quotaLimit: 500 },
      { quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaLimit: 250, quotaMetric: 'm/day' },
    ]);
    assert.equal(o.retryAfterMs, 22000);
  });

  test('400 API_KEY_INVALID → auth with errorReason; message-only variants too', () => {
    const info = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' };
    const o = outcomeFromError(400, errorBody(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [info]));
    assert.equal(o.reason, 'auth');
    assert.equal(o.errorReason, 'API_KEY_INVALID');
    assert.equal(outcomeFromError(400, errorBody(400, 'INVALID_ARGUMENT', 'API key expired. Please renew the API key.')).reason, 'auth');
    assert.equal(outcomeFromError(400, errorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.')).reason, 'invalid_request');
  });

  test('401 → auth; 403 → permission, or auth for unregistered callers', () => {
    assert.equal(outcomeFromError(401, errorBody(401, 'UNAUTHENTICATED', 'no')).reason, 'auth');
    const perm = outcomeFromError(403, errorBody(403, 'PERMISSION_DENIED', 'Permission denied on resource project.'));
    assert.equal(perm.reason, 'permission');
    assert.equal(perm.status, 'PERMISSION_DENIED');
    const noKey = "Method doesn't allow unregistered callers (callers without established identity).";
    assert.equal(outcomeFromError(403, errorBody(403, 'PERMISSION_DENIED', noKey)).reason, 'auth');
  });

  test('404 → not_found; 408 → timeout; other 4xx → invalid_request', () => {
    const nf = outcomeFromError(404, errorBody(404, 'NOT_FOUND', 'models/nope is not found for API version v1beta'));
    assert.equal(nf.reason, 'not_found');
    assert.match(nf.message, /models\/nope is not found/);
    assert.equal(outcomeFromError(408, '').reason, 'timeout');
    assert.equal(outcomeFromError(413, errorBody(413, 'INVALID_ARGUMENT', 'too big')).reason, 'invalid_request');
  });

  test('500/502/503/504 → server', () => {
    for (const code of [500, 502, 503, 504]) assert.equal(outcomeFromError(code, errorBody(code, 'X', 'm')).reason, 'server', String(code));
  });

  test('non-JSON error body keeps the raw text, truncated', () => {
    const o = outcomeFromError(502, '<html><body>Bad Gateway</body></html>');
    assert.equal(o.reason, 'server');
    assert.equal(o.message, '<html><body>Bad Gateway</body></html>');
    assert.equal(o.status, undefined);
    const long = outcomeFromError(500, 'x'.repeat(5000));
    assert.ok(long.message.length <= 501, `length ${long.message.length}`);
    assert.equal(outcomeFromError(500, '').message, 'HTTP 500');
  });

  test('the redactor removes our key and anything key-shaped from messages', () => {
    const key = 'sk-distinctive-KEY-1234';
    const google = `AIza${'B'.repeat(35)}`;
    const o = outcomeFromError(400, errorBody(400, 'INVALID_ARGUMENT', `bad key ${key} and ${google}`), undefined, {
      redact: createRedactor([key]),
    });
    assert.ok(!o.message.includes(key) && !o.message.includes(google), o.message);
    assert.match(o.message, /\[redacted\]/);
  });
});
