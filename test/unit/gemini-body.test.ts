import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BodyParseError, InlineDataReader } from '../../src/gemini/body-reader.ts';
import { readInlineDataLines } from '../../src/gemini/body-lines.ts';

/** What the streaming reader must be equal to: JSON.parse, then every inlineData.data string decoded and every
 * thoughtSignature kept as its raw bytes. */
function reference(text: string): unknown {
  const walk = (v: unknown, name: string | undefined): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (name === 'inlineData' && k === 'data' && typeof x === 'string') {
        const b = Buffer.from(x, 'base64');
        out[k] = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } else if (k === 'thoughtSignature' && typeof x === 'string') {
        out[k] = new Uint8Array(Buffer.from(x, 'latin1'));
      } else {
        out[k] = walk(x, k);
      }
    }
    return out;
  };
  return walk(JSON.parse(text), undefined);
}

/** Feeds `text` split at the given cut points. */
function readSplit(text: string | Buffer, cuts: number[]): unknown {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const reader = new InlineDataReader();
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= from || cut >= bytes.length) continue;
    reader.push(bytes.subarray(from, cut));
    from = cut;
  }
  reader.push(bytes.subarray(from));
  return reader.end();
}

const normalise = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? { bytes: Buffer.from(x).toString('hex') } : x)));

function answer(parts: unknown[]): string {
  return JSON.stringify({ candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP' }], modelVersion: 'm', usageMetadata: { totalTokenCount: 3 } });
}

const IMG = Buffer.from(Array.from({ length: 301 }, (_, i) => (i * 37) % 256));

describe('InlineDataReader', () => {
  test('decodes inlineData.data to bytes and keeps everything else as JSON.parse would, at every split point', () => {
    const text = answer([
      { text: 'quotes " and \\ and {braces} [brackets], "data": "x"' },
      { inlineData: { mimeType: 'image/png', data: IMG.toString('base64') }, thoughtSignature: 'c2ln' },
      { inlineData: { mimeType: 'image/jpeg', data: Buffer.from('second').toString('base64') } },
    ]);
    const want = normalise(reference(text));
    for (let cut = 0; cut <= text.length; cut++) assert.deepEqual(normalise(readSplit(text, [cut])), want, `split at ${cut}`);
    const got = readSplit(text, []) as { candidates: { content: { parts: { inlineData?: { data: unknown } }[] } }[] };
    const data = got.candidates[0]!.content.parts[1]!.inlineData!.data;
    assert.ok(data instanceof Uint8Array);
    assert.deepEqual(Buffer.from(data), IMG);
  });

  test('keys with escapes name the same fields as plain ones, at every split point', () => {
    const b64 = IMG.toString('base64');
    const text = `{"candidates":[{"content":{"parts":[{"inline\\u0044ata":{"mimeType":"image/png","d\\u0061ta":"${b64}"}},{"te\\"xt":"k"}]}}]}`;
    const want = normalise(reference(text));
    for (let cut = 0; cut <= text.length; cut++) {
      const got = readSplit(text, [cut]) as { candidates: { content: { parts: { inlineData?: { data: unknown } }[] } }[] };
      assert.deepEqual(normalise(got), want, `split at ${cut}`);
      assert.deepEqual(Buffer.from(got.candidates[0]!.content.parts[0]!.inlineData!.data as Uint8Array), IMG, `decoded at split ${cut}`);
    }
  });

  test('a million-character thoughtSignature stays raw bytes, out of the skeleton, whatever the chunking', () => {
    const sig = Buffer.from(Array.from({ length: 750_000 }, (_, i) => (i * 131) % 256)).toString('base64'); // 1,000,000 chars
    const escaped = JSON.stringify({ x: sig }).slice(6, -2).replace(/\//g, '\\/'); // some servers escape "/"
    const text = `{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"${IMG.toString('base64')}"},"thoughtSignature":"${escaped}"}]}}]}`;
    for (const cuts of [[], [100, 70_001, 500_000, 999_999], Array.from({ length: 200 }, (_, i) => 50 + i * 5003)]) {
      const got = readSplit(text, cuts) as { candidates: { content: { parts: { thoughtSignature?: unknown }[] } }[] };
      const raw = got.candidates[0]!.content.parts[0]!.thoughtSignature;
      assert.ok(raw instanceof Uint8Array, 'not a string');
      assert.equal(raw.length, 1_000_000);
      assert.equal(Buffer.from(raw).toString('latin1'), sig, 'escapes decoded, bytes unchanged');
    }
  });

  test('a "data" key outside inlineData stays a string', () => {
    const text = JSON.stringify({ data: 'aGVsbG8=', other: { data: 'aGVsbG8=' }, inlineData: [{ data: 'aGVsbG8=' }] });
    assert.deepEqual(readSplit(text, []), JSON.parse(text));
  });

  test('JSON escapes inside the base64 (\\/ and \\u) decode like the unescaped text, even split mid-escape', () => {
    const b64 = Buffer.from([0xfb, 0xff, 0xbf, 0x01, 0x02]).toString('base64'); // contains '+' and '/'
    assert.match(b64, /[+/]/);
    const escaped = b64.replace(/\//g, '\\/').replace(/\+/g, '\\u002B');
    const text = `{"inlineData":{"mimeType":"image/png","data":"${escaped}"}}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const got = readSplit(text, [cut, cut + 2]) as { inlineData: { data: Uint8Array } };
      assert.deepEqual(Buffer.from(got.inlineData.data), Buffer.from(b64, 'base64'), `split at ${cut}`);
    }
  });

  test('an escaped key that means inlineData is treated as inlineData', () => {
    const text = '{"inline\\u0044ata":{"data":"aGk="}}';
    const got = readSplit(text, [10]) as { inlineData: { data: Uint8Array } };
    assert.equal(Buffer.from(got.inlineData.data).toString(), 'hi');
  });

  test('a server string that looks like a placeholder is left alone', () => {
    const text = JSON.stringify({ text: '\u0000imagebatch-blob-000000000000:0', inlineData: { data: 'aGk=' } });
    const got = readSplit(text, []) as { text: string };
    assert.equal(got.text, '\u0000imagebatch-blob-000000000000:0');
  });

  test('truncated or malformed bodies throw BodyParseError with the bytes read', () => {
    const text = answer([{ inlineData: { mimeType: 'image/png', data: IMG.toString('base64') } }]);
    for (const bad of [text.slice(0, 60), text.slice(0, text.length - 3), `${text}x`, 'not json', '', '{"a":1,}']) {
      assert.throws(
        () => readSplit(bad, [7]),
        (e: unknown) => e instanceof BodyParseError && e.bytesRead === Buffer.byteLength(bad),
        JSON.stringify(bad.slice(-20)),
      );
    }
    assert.throws(() => readSplit('{"inlineData":{"data":"ab\\x"}}', []), BodyParseError);
  });

  test('property: any JSON with images, split anywhere, reads as JSON.parse + base64 decode', () => {
    const image = fc.record({ mimeType: fc.constant('image/png'), data: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')) });
    const part = fc.oneof(fc.record({ text: fc.string() }), fc.record({ inlineData: image }), fc.record({ inlineData: image, thought: fc.boolean(), extra: fc.jsonValue({ maxDepth: 2 }) }));
    fc.assert(
      fc.property(fc.array(part, { maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (parts, extra, rawCuts) => {
        const text = JSON.stringify({ candidates: [{ content: { parts } }], extra });
        const bytes = Buffer.from(text);
        const cuts = rawCuts.map((c) => c % (bytes.length + 1));
        assert.deepEqual(normalise(readSplit(bytes, cuts)), normalise(reference(text)));
      }),
      { seed: 4, numRuns: 300 },
    );
  });

  test('property: the image decodes like Buffer.from(s, "base64"), padded or not, with escaped newlines, split anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 }), (bytes, pad, wrap, rawCuts) => {
        let b64 = Buffer.from(bytes).toString('base64');
        if (!pad) b64 = b64.replace(/=+$/, '');
        if (wrap) b64 = b64.replace(/(.{8})/g, '$1\\n'); // MIME-style line breaks, JSON-escaped
        const text = `{"inlineData":{"mimeType":"image/png","data":"${b64}"}}`;
        const got = readSplit(text, rawCuts.map((c) => c % (text.length + 1))) as { inlineData: { data: Uint8Array } };
        assert.deepEqual(Buffer.from(got.inlineData.data), Buffer.from(bytes));
      }),
      { seed: 9, numRuns: 300 },
    );
  });

  test('large images cross the decoder slab boundaries intact, whatever the chunk size', () => {
    const big = Buffer.alloc(2_500_001);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919 + (i >> 11)) & 0xff;
    const text = Buffer.from(answer([{ inlineData: { mimeType: 'image/png', data: big.toString('base64') } }, { inlineData: { mimeType: 'image/png', data: IMG.toString('base64') } }]));
    for (const size of [65_536, 4093, 3]) {
      const reader = new InlineDataReader();
      for (let i = 0; i < text.length; i += size) reader.push(text.subarray(i, i + size));
      const parts = (reader.end() as { candidates: { content: { parts: { inlineData: { data: Uint8Array } }[] } }[] }).candidates[0]!.content.parts;
      assert.ok(Buffer.from(parts[0]!.inlineData.data).equals(big), `chunks of ${size}`);
      assert.ok(Buffer.from(parts[1]!.inlineData.data).equals(IMG), `chunks of ${size}`);
    }
  });
});

describe('readInlineDataLines', () => {
  async function* chunked(bytes: Buffer, cuts: number[]) {
    let from = 0;
    for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
      if (cut <= from || cut >= bytes.length) continue;
      yield bytes.subarray(from, cut);
      from = cut;
    }
    yield bytes.subarray(from);
  }
  async function collect(bytes: Buffer, cuts: number[]) {
    const out: unknown[] = [];
    for await (const l of readInlineDataLines(chunked(bytes, cuts))) out.push(l.ok ? { line: l.line, value: normalise(l.value) } : { line: l.line, damaged: true });
    return out;
  }

  test('one answer per line, images decoded; blank lines skipped, BOM and CRLF accepted, a damaged line reported and passed', async () => {
    const l1 = JSON.stringify({ key: 'a', response: JSON.parse(answer([{ inlineData: { mimeType: 'image/png', data: IMG.toString('base64') } }])) });
    const l3 = JSON.stringify({ key: 'c', error: { code: 3, message: 'bad "request"\n' } });
    const text = Buffer.from(`\ufeff${l1}\r\n\n{"key":"b","response":{"candidates":[\r\n${l3}\n  \n{"inlineData":{"data":"ab\\x"}}\n${l1}`);
    const want = [
      { line: 1, value: normalise(reference(l1)) },
      { line: 3, damaged: true },
      { line: 4, value: normalise(JSON.parse(l3)) },
      { line: 6, damaged: true },
      { line: 7, value: normalise(reference(l1)) },
    ];
    for (let cut = 0; cut <= text.length; cut += 7) assert.deepEqual(await collect(text, [cut, cut + 1, cut % 3]), want, `split at ${cut}`);
  });

  test('bytes that only begin like a BOM are kept (and make the line damaged), split or not', async () => {
    const ok = Buffer.from('{"a":1}\n');
    for (const start of [Buffer.from([0xef]), Buffer.from([0xef, 0xbb]), Buffer.from([0xef, 0xbb, 0x7b])]) {
      const text = Buffer.concat([start, ok]);
      for (const cut of [1, 2, 3]) assert.deepEqual(await collect(text, [cut]), [{ line: 1, damaged: true }], `${start.toString('hex')} split at ${cut}`);
    }
    assert.deepEqual(await collect(Buffer.from([0xef, 0xbb]), [1]), [{ line: 1, damaged: true }]);
    assert.deepEqual(await collect(Buffer.from([0xef, 0xbb, 0xbf]), [1, 2]), []);
  });
});
