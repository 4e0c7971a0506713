import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { LineSplitter } from '../../src/internal/line-splitter.ts';
import { readLines } from '../../src/internal/jsonl.ts';

/** Splits `bytes` into chunks at `cuts` and returns each reported line (latin1, one char per byte) with its number. */
function split(bytes: Buffer, cuts: number[]): [number, string][] {
  const out: [number, string][] = [];
  let parts: Buffer[] = [];
  const s = new LineSplitter({
    bytes: (p) => parts.push(Buffer.from(p)),
    end: (line) => {
      out.push([line, Buffer.concat(parts).toString('latin1')]);
      parts = [];
    },
  });
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= from || cut >= bytes.length) continue;
    s.push(bytes.subarray(from, cut));
    from = cut;
  }
  s.push(bytes.subarray(from));
  s.end();
  return out;
}

/** What the splitter must agree with: the whole stream split at once. */
function reference(bytes: Buffer): [number, string][] {
  const raw = bytes.toString('latin1');
  const text = raw.startsWith('\xef\xbb\xbf') ? raw.slice(3) : raw;
  // Any byte after the last LF (a lone BOM included) makes a last line.
  if (text === '') return raw === '' ? [] : [[1, '']];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines.map((l, i) => [i + 1, l.endsWith('\r') ? l.slice(0, -1) : l]);
}

describe('LineSplitter', () => {
  test('BOM, CRLF, blank lines and a last line without newline, whatever the chunking', () => {
    const text = Buffer.from('\ufeffa\r\n\nb\rc\r\n\r\nlast\r');
    const want: [number, string][] = [[1, 'a'], [2, ''], [3, 'b\rc'], [4, ''], [5, 'last']];
    for (let a = 0; a <= text.length; a++) for (let b = a; b <= text.length; b++) assert.deepEqual(split(text, [a, b]), want, `cuts ${a},${b}`);
  });

  test('bytes that only begin like a BOM are content; a BOM later in the stream is content', () => {
    assert.deepEqual(split(Buffer.from([0xef, 0xbb, 0x41, 0x0a]), [1, 2]), [[1, '\xef\xbbA']]);
    assert.deepEqual(split(Buffer.from([0xef, 0xbb]), [1]), [[1, '\xef\xbb']]);
    assert.deepEqual(split(Buffer.from('x\n\ufeffy'), [2, 3]), [[1, 'x'], [2, '\xef\xbb\xbfy']]);
    assert.deepEqual(split(Buffer.alloc(0), []), []);
    assert.deepEqual(split(Buffer.from('\n'), []), [[1, '']]);
  });

  test('agrees with splitting the whole stream at once (property)', () => {
    const alphabet = fc.constantFrom(0x0a, 0x0d, 0xef, 0xbb, 0xbf, 0x61, 0x20);
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 6 }), (codes, cuts) => {
        const bytes = Buffer.from(codes);
        assert.deepEqual(split(bytes, cuts), reference(bytes));
      }),
      { seed: 11, numRuns: 500 },
    );
  });
});

describe('readLines', () => {
  test('decodes each line strictly as UTF-8, reporting invalid ones, across chunk boundaries', async () => {
    const bytes = Buffer.concat([Buffer.from('\ufeffé1\r\n'), Buffer.from([0xff, 0x0a]), Buffer.from('ü3')]);
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const got = [];
    for await (const l of readLines(Readable.from(chunks))) got.push(l);
    assert.deepEqual(got, [{ line: 1, text: 'é1' }, { line: 2, text: '\ufffd', invalid: true }, { line: 3, text: 'ü3' }]);
  });
});
