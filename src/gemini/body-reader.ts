// Reads a generateContent answer without ever holding an image as text. Every `inlineData.data` string is
// base64-decoded while it streams in; only the small rest of the JSON (the "skeleton") is kept and parsed.
// Why: a 3 MB image arrives as 4 MB of base64. Read whole, it would exist as body bytes, a string, a parsed
// string and decoded bytes at once, about 4× its size per request in flight (BENCHMARKS.md, "Bounded memory").
import { randomBytes } from 'node:crypto';
import { Base64Sink } from './base64-sink.ts';

const BLOB_MARKER = `\u0000imagebatch-blob-${randomBytes(6).toString('hex')}:`;

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

interface Sink {
  write(src: Uint8Array, from: number, to: number): void;
  end(): Uint8Array;
}

/**
 * Keeps a string's bytes as they came (a thoughtSignature: base64 text of up to a million characters that a later
 * edit sends back verbatim), so it never becomes a JS string nor sits in the skeleton.
 */
class RawSink implements Sink {
  readonly #parts: Buffer[] = [];
  write(src: Uint8Array, from: number, to: number): void {
    if (to > from) this.#parts.push(Buffer.from(src.subarray(from, to))); // copied: a view would pin the network chunk
  }
  end(): Uint8Array {
    const b = Buffer.concat(this.#parts);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
}
const BACKSLASH = 0x5c;

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
  // A nonce with a NUL: no string the server sends can be mistaken for a placeholder. Drawn once per process, not
  // per reader: the server never sees it, and a batch results file makes one reader per line (100,000 draws).
  readonly #marker = BLOB_MARKER;
  #bytes = 0;
  #inString = false;
  #mode: 'copy' | 'key' | 'blob' = 'copy';
  /** A backslash was just read; the byte after it (maybe in the next chunk) is still to come. */
  #escapePending = false;
  #keyParts: Uint8Array[] = [];
  // blob mode: the raw escape being read (e.g. `\/`, `\u002F`), and the image being decoded.
  #escape = '';
  #blob: Sink = new Base64Sink();

  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Start of the bytes of this chunk still to be copied into the skeleton (none while inside an image).
    let copyFrom = this.#inString && this.#mode === 'blob' ? Number.POSITIVE_INFINITY : 0;
    let i = 0;
    // The next backslash at or after i in this chunk (-1: none left), found once and reused until passed: one scan
    // of the chunk for backslashes, not one per string (which allocated a view per string).
    let backslash = -2;
    while (i < buf.length) {
      if (this.#inString) {
        if (this.#escapePending || this.#escape !== '') {
          i = this.#continueEscape(buf, i);
          continue;
        }
        if (backslash !== -1 && backslash < i) backslash = buf.indexOf(BACKSLASH, i);
        const quote = buf.indexOf(QUOTE, i);
        const end = backslash === -1 ? quote : quote === -1 ? backslash : Math.min(quote, backslash);
        const stop = end === -1 ? buf.length : end;
        if (this.#mode === 'blob') this.#blob.write(buf, i, stop);
        else if (this.#mode === 'key') {
          // A key read whole from one chunk with no escape (all of Gemini's keys): decoded as it is.
          if (end !== -1 && buf[end] === QUOTE && this.#keyParts.length === 0) {
            this.#setKey(buf.toString('utf8', i, stop));
            i = end + 1;
            this.#inString = false;
            this.#mode = 'copy';
            continue;
          }
          this.#keyParts.push(buf.subarray(i, stop));
        }
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
        } else if (top?.isObject && ((top.key === 'data' && top.name === 'inlineData') || top.key === 'thoughtSignature')) {
          this.#mode = 'blob';
          // Copy up to and including the opening quote, then the placeholder stands for the string's content.
          this.#skeleton.push(Buffer.from(buf.subarray(copyFrom, i + 1)), Buffer.from(JSON.stringify(`${this.#marker}${this.#blobs.length}`).slice(1, -1)));
          copyFrom = Number.POSITIVE_INFINITY; // nothing copied until the closing quote
          this.#blob = top.key === 'thoughtSignature' ? new RawSink() : new Base64Sink();
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
    const raw = Buffer.concat(this.#keyParts).toString('utf8');
    this.#keyParts = [];
    let key: string;
    try {
      key = JSON.parse(`"${raw}"`) as string;
    } catch {
      key = raw; // malformed: the skeleton parse reports it
    }
    this.#setKey(key);
  }

  #setKey(key: string): void {
    const top = this.#frames.at(-1);
    if (top) top.key = key;
  }

  #endBlob(): void {
    this.#blobs.push(this.#blob.end());
  }
}
