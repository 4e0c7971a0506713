// API key check: header `x-goog-api-key` or query `?key=`, Google's answers for a missing or a wrong key.
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { HttpError } from './errors.ts';
import { apiKeyInvalid, unregisteredCaller } from './errors.ts';

export function keyFromRequest(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['x-goog-api-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const key = fromHeader || url.searchParams.get('key') || undefined;
  return key === '' ? undefined : key;
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Returns the error to send, or undefined when the caller may proceed.
 * With no configured key, any non-empty key passes (the emulator is for tests, not for security).
 */
export function checkAuth(req: IncomingMessage, url: URL, expected: string | undefined): HttpError | undefined {
  const key = keyFromRequest(req, url);
  if (key === undefined) return unregisteredCaller();
  if (expected !== undefined && !sameKey(key, expected)) return apiKeyInvalid();
  return undefined;
}
