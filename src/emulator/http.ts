// HTTP plumbing: bounded body reading, JSON answers in Google's content type, error bodies, key casing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpError } from './errors.ts';
import { invalidArgument } from './errors.ts';

export const JSON_TYPE = 'application/json; charset=UTF-8';
/** Google's request size limit for generateContent and inline batches. */
export const MAX_JSON_BYTES = 20 * 1024 * 1024;

/**
 * Reads the whole body. Past `limit` bytes it keeps draining (so the client sees an answer, not a reset)
 * but stops storing, and reports `tooLarge`.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(chunk);
  }
  return { body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks, size), tooLarge };
}

/** Reads and parses a JSON body; an empty body is `{}` (SDK sends "{}" or nothing on cancel/delete). */
export async function readJson(req: IncomingMessage, limit = MAX_JSON_BYTES): Promise<{ value: unknown; bytes: number }> {
  const { body, tooLarge } = await readBody(req, limit);
  if (tooLarge) throw invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);
  const text = body.toString('utf8').trim();
  if (text === '') return { value: {}, bytes: 0 };
  try {
    return { value: JSON.parse(text) as unknown, bytes: body.length };
  } catch (e) {
    const why = e instanceof Error ? e.message : 'malformed JSON';
    throw invalidArgument(`Invalid JSON payload received. ${why}`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...headers, 'content-type': JSON_TYPE, 'content-length': String(body.length) });
  res.end(body);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.httpStatus, err.body, err.headers);
}

const snakeRe = /_([a-z0-9])/g;

/** Keys whose values are user maps or schemas: their inner keys are data, not field names. */
const OPAQUE_KEYS = new Set(['metadata', 'labels', 'responseSchema', 'responseJsonSchema', 'parameters', 'args', 'response']);

/**
 * proto3 JSON parsing accepts both lowerCamelCase and snake_case field names; normalising to camelCase once
 * lets every handler read one spelling.
 */
export function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = k.includes('_') ? k.replace(snakeRe, (_m, c: string) => c.toUpperCase()) : k;
    out[key] = OPAQUE_KEYS.has(key) ? v : camelizeKeys(v);
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 3339 with Z, as Google writes timestamps. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}
