// Real recorded Gemini answers (test/fixtures/replay, sources in its README): one JSON file per answer with the
// status, headers and the body text exactly as recorded; a large body may live next to it in `bodyFile`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPLAY_DIR = fileURLToPath(new URL('../fixtures/replay/', import.meta.url));

export interface Recorded {
  name: string;
  status: number;
  headers: Record<string, string>;
  /** The body bytes as recorded. */
  body: Buffer;
  source: Record<string, string>;
}

interface RecordedFile {
  status: number;
  headers: Record<string, string>;
  body?: string;
  bodyFile?: string;
  source: Record<string, string>;
}

export function recorded(name: string): Recorded {
  const f = JSON.parse(readFileSync(join(REPLAY_DIR, `${name}.json`), 'utf8')) as RecordedFile;
  const body = f.bodyFile !== undefined ? readFileSync(join(REPLAY_DIR, f.bodyFile)) : Buffer.from(f.body ?? '', 'utf8');
  return { name, status: f.status, headers: f.headers, body, source: f.source };
}

/** The recorded body as text (error bodies, models.list). */
export const recordedText = (name: string): string => recorded(name).body.toString('utf8');
