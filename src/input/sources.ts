// Format readers: bytes → records `{line, value}` or a line-level issue. Streaming; nothing is materialised.
import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { CsvError } from 'csv-parse';
import { readLines } from '../internal/jsonl.ts';
import { utf16ToUtf8, type TextEncodingName } from './encoding.ts';
import { duplicateTopLevelKeys } from './json-keys.ts';
import type { FieldIssue } from './schema.ts';

export type InputFormat = 'txt' | 'jsonl' | 'csv';

/** One input record. `value` holds the fields (txt: `{prompt}`); `issues` is set instead when the record is unusable. */
export interface RawRecord {
  /** 1-based line where the record starts. */
  line: number;
  value?: Record<string, unknown>;
  issues?: FieldIssue[];
}

const INVALID_UTF8: FieldIssue = { message: 'invalid UTF-8' };

export function formatFromPath(file: string): InputFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  return 'txt';
}

/** What the format readers read: a path (UTF-8 as it is) or a stream already transcoded to UTF-8. */
type Source = string | (() => Readable);

export function readRecords(path: string, format: InputFormat, needPrompt: boolean, signal?: AbortSignal, encoding: TextEncodingName = 'utf-8'): AsyncGenerator<RawRecord> {
  const source = textSource(path, encoding, signal);
  if (format === 'jsonl') return jsonlRecords(source, signal);
  if (format === 'csv') return csvRecords(source, needPrompt, signal);
  return txtRecords(source, signal);
}

/** UTF-16 files are transcoded on the fly; UTF-32 is refused earlier (see prepare in index.ts). */
function textSource(path: string, encoding: TextEncodingName, signal?: AbortSignal): Source {
  if (encoding !== 'utf-16le' && encoding !== 'utf-16be') return path;
  return () => pipeline(createReadStream(path, { signal }), utf16ToUtf8(encoding), () => {});
}

const lines = (source: Source, signal?: AbortSignal) => readLines(typeof source === 'string' ? source : source(), signal);

/** One prompt per line; blank lines and `#` comments skipped. */
async function* txtRecords(source: Source, signal?: AbortSignal): AsyncGenerator<RawRecord> {
  for await (const l of lines(source, signal)) {
    if (l.invalid) {
      yield { line: l.line, issues: [INVALID_UTF8] };
      continue;
    }
    const t = l.text.trim();
    if (t === '' || t.startsWith('#')) continue;
    yield { line: l.line, value: { prompt: t } };
  }
}

async function* jsonlRecords(source: Source, signal?: AbortSignal): AsyncGenerator<RawRecord> {
  for await (const l of lines(source, signal)) {
    if (l.invalid) {
      yield { line: l.line, issues: [INVALID_UTF8] };
      continue;
    }
    if (l.text.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(l.text);
    } catch (e) {
      yield { line: l.line, issues: [{ message: `not valid JSON (${(e as Error).message})` }] };
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      const got = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
      yield { line: l.line, issues: [{ message: `expected a JSON object, got ${got}` }] };
      continue;
    }
    const dups = duplicateTopLevelKeys(l.text);
    if (dups.length) {
      yield { line: l.line, issues: dups.map((field) => ({ field, message: 'appears more than once in the line (which one is meant?)' })) };
      continue;
    }
    yield { line: l.line, value: v as Record<string, unknown> };
  }
}

/** Header names matched case-insensitively, ignoring `_` and `-` (aspect_ratio, Aspect-Ratio, aspectRatio). */
const KNOWN_COLUMNS: Record<string, string> = {
  prompt: 'prompt',
  key: 'key',
  model: 'model',
  aspectratio: 'aspectRatio',
  imagesize: 'imageSize',
  seed: 'seed',
  images: 'images',
  out: 'out',
};

/** Separator between several reference images in one CSV cell. */
export const CSV_IMAGES_SEPARATOR = ';';

interface Column {
  raw: string;
  known?: string;
}

/**
 * CSV with a header row. Lines come through readLines (strict UTF-8 per line, BOM, CRLF) and are re-joined for
 * csv-parse, so quoted fields may span lines; the start line of a record is its end line minus its inner newlines.
 * Quotes are relaxed because csv-parse cannot resynchronise after a stray quote; an unclosed quote is reported.
 */
async function* csvRecords(source: Source, needPrompt: boolean, signal?: AbortSignal): AsyncGenerator<RawRecord> {
  const invalidLines = new Set<number>();
  const skipped: RawRecord[] = [];
  async function* text(): AsyncGenerator<string> {
    for await (const l of lines(source, signal)) {
      if (l.invalid) invalidLines.add(l.line);
      yield `${l.text}\n`;
    }
  }
  const parser = parseCsv({
    info: true,
    raw: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      const end = typeof err?.lines === 'number' ? err.lines : 0;
      skipped.push({ line: startLine(end, raw ?? ''), issues: [{ message: csvMessage(err) }] });
      return undefined;
    },
  });
  const joined = Readable.from(text());
  joined.on('error', (e) => parser.destroy(e));
  joined.pipe(parser);
  try {
    yield* csvBody(parser, skipped, invalidLines, needPrompt);
  } finally {
    joined.destroy();
    parser.destroy();
  }
}

type CsvItem = { record: string[]; info: { lines: number }; raw: string };

async function* csvBody(parser: AsyncIterable<unknown>, skipped: RawRecord[], invalidLines: Set<number>, needPrompt: boolean): AsyncGenerator<RawRecord> {
  let columns: Column[] | undefined;
  for await (const item of parser as AsyncIterable<CsvItem>) {
    yield* skipped.splice(0);
    const end = item.info.lines;
    const line = startLine(end, item.raw);
    if (hasInvalid(invalidLines, line, end)) {
      if (!columns) return yield { line, issues: [INVALID_UTF8] };
      yield { line, issues: [INVALID_UTF8] };
      continue;
    }
    if (!columns) {
      columns = item.record.map((h) => {
        const raw = h.trim();
        return { raw, known: KNOWN_COLUMNS[raw.toLowerCase().replace(/[_-]/g, '')] };
      });
      const issues = headerIssues(columns, needPrompt);
      if (issues.length) return yield { line, issues };
      continue;
    }
    if (item.record.length !== columns.length) {
      yield { line, issues: [{ message: `expected ${columns.length} fields as in the header, found ${item.record.length}` }] };
      continue;
    }
    yield { line, value: csvRow(columns, item.record) };
  }
  yield* skipped.splice(0);
}

function headerIssues(columns: Column[], needPrompt: boolean): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const c of columns) {
    const id = c.known ?? c.raw;
    if (c.raw === '') continue;
    if (seen.has(id)) issues.push({ field: c.raw, message: 'duplicate column in the header' });
    seen.add(id);
  }
  if (needPrompt && !columns.some((c) => c.known === 'prompt')) {
    issues.push({ field: 'prompt', message: 'the header has no prompt column' });
  }
  return issues;
}

/** Cells → fields: known columns under their field name (typed), every column under its header name for templates. */
function csvRow(columns: Column[], cells: string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    const cell = cells[i] ?? '';
    if (c.raw !== '' && !(c.raw in row)) row[c.raw] = cell;
    if (!c.known) return;
    const t = cell.trim();
    // An empty cell means "not given" for optional columns; an empty prompt stays, to be reported.
    if (t === '' && c.known !== 'prompt') {
      delete row[c.known];
      return;
    }
    if (c.known === 'seed') row.seed = /^[+-]?\d+$/.test(t) ? Number(t) : t;
    else if (c.known === 'images') row.images = t.split(CSV_IMAGES_SEPARATOR).map((s) => s.trim()).filter(Boolean);
    else if (c.known === 'prompt') row.prompt = cell;
    else row[c.known] = t;
  });
  return row;
}

function startLine(endLine: number, raw: string): number {
  const body = raw.replace(/^(\r?\n)+/, '');
  const inner = (body.match(/\n/g)?.length ?? 0) - (body.endsWith('\n') ? 1 : 0);
  return Math.max(1, endLine - inner);
}

function hasInvalid(invalid: Set<number>, from: number, to: number): boolean {
  if (invalid.size === 0) return false;
  for (let l = from; l <= to; l++) if (invalid.has(l)) return true;
  return false;
}

function csvMessage(err: CsvError | undefined): string {
  if (err?.code === 'CSV_QUOTE_NOT_CLOSED') return 'a quoted field is never closed';
  return `malformed CSV (${err?.message ?? 'unknown error'})`;
}
