// Reads a generateContent answer without ever holding an image as text. Every `inlineData.data` string is
// base64-decoded while it streams in; only the small rest of the JSON (the "skeleton") is kept and parsed.
// Why: a 3 MB image arrives as 4 MB of base64. Read whole, it would exist as body bytes, a string, a parsed
// string and decoded bytes at once, about 4× its size per request in flight (BENCHMARKS.md, "Bounded memory").
import { randomBytes } from 'node:crypto';

export class BodyParseError extends Error {
  /** Bytes read before the problem was found. */
  readonly bytesRead: number;
  constructor(message: string, bytesRead: number) {
    super(message);
    this.name = 'BodyParseError';
    this.bytesRead = bytesRead;
  }
}

interface Frame {
  isObject: boolean;
  /** In an object: the next string is a key (after `{` or `,`), not a value. */
  expectKey: boolean;
  /** In an object: the key of the value being read. */
  key: string | undefined;
  /** The key under which this container sits in its parent object. */
  name: string | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Sextet value of each byte: standard and URL-safe alphabets; -1 for anything else (padding, whitespace). */
const SEXTET = new Int8Array(256).fill(-1);
for (const [i, ch] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) SEXTET[ch.charCodeAt(0)] = i;
SEXTET[0x2d] = 62; // -
SEXTET[0x5f] = 63; // _

/**
 * Incremental reader: push() the body's chunks in order, then end() returns the parsed JSON in which every
 * `inlineData.data` is a Uint8Array of decoded bytes instead of a base64 string. Anything that is not valid
 * JSON throws BodyParseError from end() (the decoded images are not validated as base64 beyond dropping
 * characters outside the alphabet, as Buffer.from(s, 'base64') would).
 */
export class InlineDataReader {
  readonly #frames: Frame[] = [];
  readonly #skeleton: Uint8Array[] = [];
  readonly #blobs: Uint8Array[] = [];
  // A per-reader nonce with a NUL: no string the server sends can be mistaken for a placeholder.
  readonly #marker = `\u0000imagebatch-blob-${randomBytes(6).toString('hex')}:`;
  #bytes = 0;
  #inString = false;
  #mode: 'copy' | 'key' | 'blob' = 'copy';
  /** A backslash was just read; the byte after it (maybe in the next chunk) is still to come. */
  #escapePending = false;
  #keyParts: Uint8Array[] = [];
  // blob mode: the raw escape being read (e.g. `\/`, `\u002F`), and the image being decoded.
  #escape = '';
  #blob = new Base64Sink();

  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Start of the bytes of this chunk still to be copied into the skeleton (none while inside an image).
    let copyFrom = this.#inString && this.#mode === 'blob' ? Number.POSITIVE_INFINITY : 0;
    let i = 0;
    while (i < buf.length) {
      if (this.#inString) {
        if (this.#escapePending || this.#escape !== '') {
          i = this.#continueEscape(buf, i);
          continue;
        }
        const end = nextSpecial(buf, i);
        const stop = end === -1 ? buf.length : end;
        if (this.#mode === 'blob') this.#blob.write(buf, i, stop);
        else if (this.#mode === 'key') this.#keyParts.push(buf.subarray(i, stop));
        if (end === -1) {
          i = buf.length;
          break;
        }
        if (buf[end] === BACKSLASH) {
          if (this.#mode === 'key') this.#keyParts.push(buf.subarray(end, end + 1));
          this.#escapePending = true;
          i = end + 1;
          continue;
        }
        // The closing quote.
        i = end + 1;
        this.#inString = false;
        if (this.#mode === 'key') {
          this.#endKey();
        } else if (this.#mode === 'blob') {
          this.#endBlob();
          copyFrom = end; // the skeleton resumes with the closing quote
        }
        this.#mode = 'copy';
        continue;
      }
      const c = buf[i]!;
      if (c === QUOTE) {
        const top = this.#frames.at(-1);
        this.#inString = true;
        if (top?.isObject && top.expectKey) {
          this.#mode = 'key';
          this.#keyParts = [];
        } else if (top?.isObject && top.key === 'data' && top.name === 'inlineData') {
          this.#mode = 'blob';
          // Copy up to and including the opening quote, then the placeholder stands for the string's content.
          this.#skeleton.push(Buffer.from(buf.subarray(copyFrom, i + 1)), Buffer.from(JSON.stringify(`${this.#marker}${this.#blobs.length}`).slice(1, -1)));
          copyFrom = Number.POSITIVE_INFINITY; // nothing copied until the closing quote
          this.#blob = new Base64Sink();
        }
        i++;
        continue;
      }
      this.#structural(c);
      i++;
    }
    // Copied, not a view: a view would keep the whole network chunk alive until the end.
    if (copyFrom < buf.length) this.#skeleton.push(Buffer.from(buf.subarray(copyFrom)));
    this.#bytes += buf.length;
  }

  /** The parsed answer; throws BodyParseError when the body was not complete, valid JSON. */
  end(): unknown {
    if (this.#inString || this.#frames.length > 0) throw new BodyParseError('the body ends inside a JSON value (truncated)', this.#bytes);
    const text = Buffer.concat(this.#skeleton).toString('utf8');
    const marker = this.#marker;
    const blobs = this.#blobs;
    try {
      return JSON.parse(text, (_key, value: unknown) =>
        typeof value === 'string' && value.startsWith(marker) ? blobs[Number(value.slice(marker.length))] : value,
      );
    } catch (e) {
      throw new BodyParseError(`not JSON: ${(e as Error).message}`, this.#bytes);
    }
  }

  /** Total bytes pushed. */
  get bytesRead(): number {
    return this.#bytes;
  }

  #structural(c: number): void {
    const top = this.#frames.at(-1);
    switch (c) {
      case 0x7b: // {
      case 0x5b: // [
        this.#frames.push({ isObject: c === 0x7b, expectKey: c === 0x7b, key: undefined, name: top?.isObject ? top.key : undefined });
        break;
      case 0x7d: // }
      case 0x5d: // ]
        this.#frames.pop();
        break;
      case 0x2c: // ,
        if (top?.isObject) top.expectKey = true;
        break;
      case 0x3a: // :
        if (top?.isObject) top.expectKey = false;
        break;
      default:
      // Whitespace, digits, literals: copied as they are, they do not change where we are.
    }
  }

  /** After a backslash: in copy or key mode the next byte is just skipped over; in blob mode the escape is decoded. */
  #continueEscape(buf: Buffer, i: number): number {
    if (this.#mode !== 'blob') {
      if (this.#mode === 'key') this.#keyParts.push(buf.subarray(i, i + 1));
      this.#escapePending = false;
      return i + 1; // \uXXXX's hex digits hold no quote or backslash, so skipping one byte is enough
    }
    if (this.#escapePending) {
      this.#escapePending = false;
      this.#escape = '\\';
    }
    this.#escape += String.fromCharCode(buf[i]!);
    const complete = this.#escape.length === 2 ? this.#escape[1] !== 'u' : this.#escape.length === 6;
    if (complete) {
      let ch: string;
      try {
        ch = JSON.parse(`"${this.#escape}"`) as string;
      } catch {
        throw new BodyParseError(`bad escape ${JSON.stringify(this.#escape)} in inlineData.data`, this.#bytes + i);
      }
      this.#escape = '';
      const code = Buffer.from(ch, 'latin1');
      this.#blob.write(code, 0, code.length);
    }
    return i + 1;
  }

  #endKey(): void {
    const top = this.#frames.at(-1);
    if (!top) return;
    const raw = Buffer.concat(this.#keyParts).toString('utf8');
    this.#keyParts = [];
    try {
      top.key = JSON.parse(`"${raw}"`) as string;
    } catch {
      top.key = raw; // malformed: the skeleton parse reports it
    }
  }

  #endBlob(): void {
    this.#blobs.push(this.#blob.end());
  }
}

/**
 * Decodes base64 bytes straight into buffers. Why not Buffer.from(text, 'base64'): that needs each chunk as a JS
 * string first, and 4 MB of short-lived strings per image is what grew the young generation (and with it peak RSS)
 * in the memory benchmark. Output goes into slabs of growing size (no copying to grow), joined once at the end
 * into a buffer of the exact size. Characters outside the alphabet are skipped, as Node's decoder does.
 */
class Base64Sink {
  readonly #full: Buffer[] = [];
  #slab = Buffer.allocUnsafeSlow(0);
  #used = 0;
  #total = 0;
  #acc = 0;
  #sextets = 0;

  write(src: Uint8Array, from: number, to: number): void {
    let i = from;
    while (i < to) {
      // Room for one more group; otherwise the slab is full and the next one starts.
      if (this.#slab.length - this.#used < 3) this.#nextSlab();
      const out = this.#slab;
      let n = this.#used;
      const room = out.length - 3;
      let acc = this.#acc;
      let sextets = this.#sextets;
      // Fast path: whole groups of 4 alphabet characters, which is all of a well-formed image.
      if (sextets === 0) {
        for (; i + 4 <= to && n <= room; i += 4) {
          const a = SEXTET[src[i]!]!;
          const b = SEXTET[src[i + 1]!]!;
          const c = SEXTET[src[i + 2]!]!;
          const d = SEXTET[src[i + 3]!]!;
          if ((a | b | c | d) < 0) break;
          out[n++] = (a << 2) | (b >> 4);
          out[n++] = ((b & 15) << 4) | (c >> 2);
          out[n++] = ((c & 3) << 6) | d;
        }
      }
      // Slow path, one character: a group split across chunks or escapes, padding, whitespace.
      if (i < to && (sextets !== 0 || n <= room)) {
        const v = SEXTET[src[i++]!]!;
        if (v >= 0) {
          acc = (acc << 6) | v;
          if (++sextets === 4) {
            out[n++] = acc >> 16;
            out[n++] = (acc >> 8) & 0xff;
            out[n++] = acc & 0xff;
            acc = 0;
            sextets = 0;
          }
        }
      }
      this.#used = n;
      this.#acc = acc;
      this.#sextets = sextets;
    }
  }

  /** The decoded bytes; a trailing group of 2 or 3 characters gives 1 or 2 bytes (a lone 1 is dropped). */
  end(): Uint8Array {
    if (this.#sextets >= 2) {
      if (this.#slab.length - this.#used < 2) this.#nextSlab();
      const acc = this.#acc << (6 * (4 - this.#sextets));
      this.#slab[this.#used++] = acc >> 16;
      if (this.#sextets === 3) this.#slab[this.#used++] = (acc >> 8) & 0xff;
    }
    const parts = [...this.#full, this.#slab.subarray(0, this.#used)];
    const bytes = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts, this.#total + this.#used);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #nextSlab(): void {
    if (this.#used > 0) {
      this.#full.push(this.#slab.subarray(0, this.#used));
      this.#total += this.#used;
    }
    // 64 KB, doubling up to 1 MB: small images stay small, large ones take few slabs.
    this.#slab = Buffer.allocUnsafeSlow(Math.min(1 << 20, Math.max(64 * 1024, this.#slab.length * 2)));
    this.#used = 0;
  }
}

/** Index of the next `"` or `\` at or after `from`, or -1. */
function nextSpecial(buf: Buffer, from: number): number {
  const q = buf.indexOf(QUOTE, from);
  const b = q === -1 ? buf.indexOf(BACKSLASH, from) : buf.subarray(from, q).indexOf(BACKSLASH);
  if (b === -1) return q;
  return q === -1 ? b : from + b;
}

export type ReadLine = { line: number; ok: true; value: unknown } | { line: number; ok: false; error: BodyParseError };

/**
 * A JSONL stream of answers (a Batch API results file), each line read through its own InlineDataReader, so a
 * 3 MB image is never a 4 MB line of text either. Lines split on raw newlines (JSON holds them only between
 * values); blank lines are skipped, a leading BOM and CRLF endings are accepted, and a damaged line is yielded
 * as `ok: false` without ending the stream.
 */
export async function* readInlineDataLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<ReadLine> {
  let reader = new InlineDataReader();
  let line = 1;
  let blank = true;
  let bom = 0; // BOM bytes matched so far at the start of the stream; -1 once past it
  let damaged: BodyParseError | undefined; // the rest of this line is skipped
  const result = (): ReadLine => {
    if (damaged) return { line, ok: false, error: damaged };
    try {
      return { line, ok: true, value: reader.end() };
    } catch (e) {
      if (e instanceof BodyParseError) return { line, ok: false, error: e };
      throw e;
    }
  };
  for await (const chunk of chunks) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // A leading BOM is dropped, even when it arrives split across chunks; bytes that only began like one are kept.
    while (bom >= 0 && bom < 3 && buf.length > 0) {
      if (buf[0] !== BOM[bom]) {
        buf = Buffer.concat([BOM.subarray(0, bom), buf]);
        bom = -1;
        break;
      }
      bom++;
      buf = buf.subarray(1);
    }
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, from);
      const segment = buf.subarray(from, nl === -1 ? buf.length : nl);
      if (segment.length > 0) {
        if (blank && !isBlank(segment)) blank = false;
        try {
          if (!damaged) reader.push(segment);
        } catch (e) {
          if (!(e instanceof BodyParseError)) throw e;
          damaged = e;
        }
      }
      if (nl === -1) break;
      if (!blank) yield result();
      reader = new InlineDataReader();
      damaged = undefined;
      blank = true;
      line++;
      from = nl + 1;
    }
  }
  if (bom > 0 && bom < 3) {
    reader.push(BOM.subarray(0, bom)); // the whole stream only began like a BOM: a damaged line, not nothing
    blank = false;
  }
  if (!blank) yield result();
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}
