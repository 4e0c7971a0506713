// A JSONL stream of generateContent answers (a Batch API results file), read without holding any line as text.
import { LineSplitter } from '../internal/line-splitter.ts';
import { BodyParseError, InlineDataReader } from './body-reader.ts';

export type ReadLine = { line: number; ok: true; value: unknown } | { line: number; ok: false; error: BodyParseError };

/**
 * Each line is read through its own InlineDataReader, so a 3 MB image is never a 4 MB line of text either. Lines
 * are cut by the shared LineSplitter on raw bytes (JSON holds newlines only between values; a leading BOM and CRLF
 * endings are accepted); blank lines are skipped, and a damaged line is yielded as `ok: false` without ending the
 * stream.
 */
export async function* readInlineDataLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<ReadLine> {
  let reader = new InlineDataReader();
  let blank = true;
  let damaged: BodyParseError | undefined; // the rest of this line is skipped
  const ready: ReadLine[] = [];
  const result = (line: number): ReadLine => {
    if (damaged) return { line, ok: false, error: damaged };
    try {
      return { line, ok: true, value: reader.end() };
    } catch (e) {
      if (e instanceof BodyParseError) return { line, ok: false, error: e };
      throw e;
    }
  };
  const splitter = new LineSplitter({
    bytes(part) {
      if (blank && !isBlank(part)) blank = false;
      if (damaged) return;
      try {
        reader.push(part);
      } catch (e) {
        if (!(e instanceof BodyParseError)) throw e;
        damaged = e;
      }
    },
    end(line) {
      if (!blank) ready.push(result(line));
      reader = new InlineDataReader();
      damaged = undefined;
      blank = true;
    },
  });
  for await (const chunk of chunks) {
    splitter.push(chunk);
    yield* ready.splice(0);
  }
  splitter.end();
  yield* ready.splice(0);
}

function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}
