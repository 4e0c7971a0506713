// The one byte-level line splitter: every line-oriented reader (input files, the manifest, batch state and
// requests, Batch API results) cuts its bytes here, so BOM, CRLF and a last line without a newline are
// handled one way everywhere.

/** Where the splitter sends each line's bytes. */
export interface LineSink {
  /**
   * More bytes of the current line (without its CR/LF). A view into the chunk being pushed: copy it to keep
   * it past the push() that produced it. A line may arrive in several parts, or in none when it is empty.
   */
  bytes(part: Buffer): void;
  /** The current line is complete; `line` is its 1-based number (blank lines are counted and reported too). */
  end(line: number): void;
}

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const CR_BYTE = Buffer.from([CR]);

/**
 * Push-based splitter on raw bytes (never decodes, so a 4 MB line of base64 is never a string). Rules:
 * a UTF-8 BOM at the very start of the stream is dropped, even when split across chunks (bytes that only
 * began like one are kept); lines end at LF, and a CR just before the LF is dropped (also across chunks);
 * the last line is reported when any byte came after the last LF.
 */
export class LineSplitter {
  readonly #sink: LineSink;
  #line = 1;
  /** BOM bytes matched so far at the start of the stream; -1 once past it. */
  #bom = 0;
  /** A CR ended the previous chunk: dropped if an LF follows, otherwise it was content. */
  #heldCr = false;
  /** Some byte arrived since the last LF. */
  #open = false;

  constructor(sink: LineSink) {
    this.#sink = sink;
  }

  push(chunk: Uint8Array): void {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length === 0) return;
    this.#open = true;
    while (this.#bom >= 0 && buf.length > 0) {
      if (buf[0] !== BOM[this.#bom]) {
        if (this.#bom > 0) this.#sink.bytes(BOM.subarray(0, this.#bom));
        this.#bom = -1;
        break;
      }
      buf = buf.subarray(1);
      if (++this.#bom === BOM.length) this.#bom = -1;
    }
    if (this.#heldCr) {
      this.#heldCr = false;
      if (buf[0] !== LF) this.#sink.bytes(CR_BYTE);
    }
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(LF, from);
      if (nl === -1) break;
      const stop = nl > from && buf[nl - 1] === CR ? nl - 1 : nl;
      if (stop > from) this.#sink.bytes(buf.subarray(from, stop));
      this.#sink.end(this.#line++);
      this.#open = false;
      from = nl + 1;
    }
    if (from === buf.length) return;
    this.#open = true;
    let stop = buf.length;
    if (buf[stop - 1] === CR) {
      this.#heldCr = true;
      stop--;
    }
    if (stop > from) this.#sink.bytes(buf.subarray(from, stop));
  }

  /** The stream ended: reports the last line if it had no newline (a lone trailing CR is dropped as in CRLF). */
  end(): void {
    if (this.#bom > 0) this.#sink.bytes(BOM.subarray(0, this.#bom)); // the stream only began like a BOM
    this.#bom = -1;
    this.#heldCr = false;
    if (this.#open) this.#sink.end(this.#line++);
    this.#open = false;
  }
}
