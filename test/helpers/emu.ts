// Shared fixtures for the integration and CLI layers: an emulator per test, temp folders that clean up,
// a fetch spy that records what the client really sent, and small readers for output folders.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';

/**
 * Fast, deterministic emulator defaults: no latency unless asked, seed 7, and a project that used
 * gemini-2.5-flash-image before (`existingUser`), so tests written on that model keep their meaning; tests of the
 * new-project line-up pass `existingUser: false`.
 */
export async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ seed: 7, existingUser: true, ...options });
}

/** Runs `fn` with a fresh emulator and always closes it. */
export async function withEmulator<T>(options: EmulatorOptions, fn: (emu: Emulator) => Promise<T>): Promise<T> {
  const emu = await emulator(options);
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

/** A temp folder under os.tmpdir(), removed by `cleanup()`. */
export async function tempDir(prefix = 'ib-int-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface SentRequest {
  url: string;
  /** Parsed JSON body, when there was one. */
  body: unknown;
  /** Header names and values as sent (the key header included: tests assert where it goes). */
  headers: Record<string, string>;
  /** performance.now() when the request was handed to fetch. */
  sentAt: number;
  /** Date.now() at the same moment: the time base of the system clock's RunEvent `at` and `untilMs`. */
  sentWall: number;
  /** performance.now() when the response headers arrived (undefined: the exchange failed). */
  answeredAt?: number;
  /** Date.now() at the same moment. */
  answeredWall?: number;
  status?: number;
  /** The JSON body of a non-2xx answer (read from a clone, so the client still sees it). */
  errorBody?: unknown;
}

/** Wraps globalThis.fetch; every exchange is recorded in `sent` in the order it was made. */
export function spyFetch(): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const spy: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    let body: unknown;
    if (typeof init?.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    }
    const rec: SentRequest = { url, body, headers, sentAt: performance.now(), sentWall: Date.now() };
    sent.push(rec);
    const res = await fetch(input, init);
    rec.answeredAt = performance.now();
    rec.answeredWall = Date.now();
    rec.status = res.status;
    if (!res.ok) {
      try {
        rec.errorBody = await res.clone().json();
      } catch {
        // not JSON: leave it unset
      }
    }
    return res;
  };
  return { fetch: spy, sent };
}

interface TextPart {
  text?: string;
}
interface GenBody {
  contents?: { parts?: TextPart[] }[];
  generationConfig?: { responseModalities?: string[] };
}

/** The prompt text (first text part of the last turn) and modalities of a recorded generateContent body. */
export function describeBody(body: unknown): { prompt: string; modalities: string[] | undefined } {
  const b = body as GenBody;
  const last = b.contents?.[b.contents.length - 1];
  return { prompt: last?.parts?.find((p) => typeof p.text === 'string')?.text ?? '', modalities: b.generationConfig?.responseModalities };
}

/** The manifest lines of a folder, parsed (torn lines would throw: the tests want to know). */
export async function manifestOf(dir: string): Promise<ManifestEntry[]> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ManifestEntry);
}

/** Image files (png/jpg) directly in a folder, sorted. */
export async function imagesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /\.(png|jpe?g)$/.test(n)).sort();
}

/** Every file under `dir`, recursively, relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  }
  return out.sort();
}

/** Polls `cond` every 5 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(cond: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(data: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** A complete PNG ends with the IEND chunk; a torn one does not. */
export function isCompletePng(data: Uint8Array): boolean {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return b.length > 12 && b.readUInt32BE(0) === 0x89504e47 && b.subarray(b.length - 8, b.length - 4).toString('latin1') === 'IEND';
}

export { seededRandom as seeded } from '../../src/internal/random.ts';

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
