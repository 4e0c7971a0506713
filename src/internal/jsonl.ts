// Line-by-line reading of big files: never the whole file in memory.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { LineSplitter } from './line-splitter.ts';

export interface Line {
  /** 1-based. */
  line: number;
  text: string;
}

/**
 * Yields lines from a byte stream, decoding UTF-8 strictly per line (invalid bytes are reported via `invalid`).
 * The bytes are cut by the shared LineSplitter (CRLF, a leading BOM, a last line without a newline).
 */
export async function* readLines(source: Readable | string, signal?: AbortSignal): AsyncGenerator<Line & { invalid?: boolean }> {
  const stream = typeof source === 'string' ? createReadStream(source, { signal }) : source;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const ready: (Line & { invalid?: boolean })[] = [];
  // Parts of the line being read: views into the current chunk (`fresh`), copies of earlier chunks' (`kept`),
  // so a line spanning chunks does not keep whole chunks alive.
  let kept: Buffer[] = [];
  let fresh: Buffer[] = [];
  const splitter = new LineSplitter({
    bytes(part) {
      fresh.push(part);
    },
    end(line) {
      const parts = kept.length === 0 ? fresh : [...kept, ...fresh];
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      kept = [];
      fresh = [];
      try {
        ready.push({ line, text: decoder.decode(bytes) });
      } catch {
        ready.push({ line, text: bytes.toString('utf8'), invalid: true });
      }
    },
  });
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (fresh.length > 0) {
      kept.push(Buffer.concat(fresh));
      fresh = [];
    }
    yield* ready.splice(0);
  }
  splitter.end();
  yield* ready.splice(0);
}
