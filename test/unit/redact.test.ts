import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor, defaultRedactor } from '../../src/internal/redact.ts';

const GOOGLE = `AIzaSy${'Q'.repeat(33)}`;

describe('the redactor', () => {
  test('hides every credential shape, keeping the label that says what was there', () => {
    const cases: [string, string][] = [
      [`key ${GOOGLE} refused`, 'key [redacted] refused'],
      [`cut short: AIzaSy${'x'.repeat(20)}`, 'cut short: [redacted]'],
      ['GET https://h/v1beta/models?key=s3cret-value&pageSize=5', 'GET https://h/v1beta/models?key=[redacted]&pageSize=5'],
      ['POST /x?alt=sse&KEY=abc123#frag', 'POST /x?alt=sse&KEY=[redacted]#frag'],
      ['https://h/o?access_token=ya29.abc', 'https://h/o?access_token=[redacted]'],
      ['x-goog-api-key: not-a-google-shape-1234', 'x-goog-api-key: [redacted]'],
      ['{"X-Goog-Api-Key":"abc-123-def","other":1}', '{"X-Goog-Api-Key":"[redacted]","other":1}'],
      ['Authorization: Bearer ya29.a0AfH6SMBx-token_value.more', 'Authorization: Bearer [redacted]'],
      ['authorization: bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', 'authorization: bearer [redacted]'],
    ];
    for (const [input, want] of cases) assert.equal(defaultRedactor(input), want, input);
  });

  test('leaves ordinary text alone', () => {
    for (const text of ['the keystone of a bridge', 'a monkey=happy', 'Bearer of good news', 'AIza is a prefix', 'models/gemini-2.5-flash-image:generateContent']) {
      assert.equal(defaultRedactor(text), text);
    }
  });

  test("a caller's own secrets go too, raw and URL-encoded, longest first; tiny ones are ignored", () => {
    const redact = createRedactor(['sk/secret+1', 'sk/secret+12', 'ab', undefined]);
    assert.equal(redact('a sk/secret+12 b sk%2Fsecret%2B1 c ab'), 'a [redacted] b [redacted] c ab');
  });
});
