// Line-by-line reading of big files: never the whole file in memory.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

export interface Line {
  /** 1-based. */
  line: number;
  text: string;
}

/**
 * Yields lines from a byte stream, decoding UTF-8 strictly per line (invalid bytes are reported via `invalid`).
 * Handles CRLF, a leading BOM, and a last line without a newline.
 */
export async function* readLines(source: Readable | string, signal?: AbortSignal): AsyncGenerator<Line & { invalid?: boolean }> {
  const stream = typeof source === 'string' ? createReadStream(source, { signal }) : source;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let n = 0;
  const emit = (buf: Buffer) => {
    n++;
    let bytes = buf;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    if (n === 1 && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    try {
      return { line: n, text: decoder.decode(bytes) };
    } catch {
      return { line: n, text: bytes.toString('utf8'), invalid: true };
    }
  };
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let idx: number;
    while ((idx = buf.indexOf(0x0a)) !== -1) {
      const head = buf.subarray(0, idx);
      const whole = pendingLen ? Buffer.concat([...pending, head], pendingLen + head.length) : head;
      pending = [];
      pendingLen = 0;
      yield emit(whole);
      buf = buf.subarray(idx + 1);
    }
    if (buf.length) {
      pending.push(Buffer.from(buf));
      pendingLen += buf.length;
    }
  }
  if (pendingLen) yield emit(Buffer.concat(pending, pendingLen));
}
