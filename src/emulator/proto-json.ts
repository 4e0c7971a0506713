// Field type checks as Google's proto3 JSON parser applies them to a request body, with its error texts:
// "Invalid value at 'generation_config.seed' (TYPE_INT32), "abc"" (400 INVALID_ARGUMENT). proto3 JSON accepts an
// integer as a number or a decimal string, and bytes as standard or URL-safe base64, padded or not
// (https://protobuf.dev/programming-guides/json/).
import { invalidArgument } from './errors.ts';

type ProtoType = 'TYPE_INT32' | 'TYPE_FLOAT' | 'TYPE_STRING' | 'TYPE_BOOL' | 'TYPE_BYTES';

/** The value as Google quotes it in the message: JSON, long strings cut. */
function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}..."` : s;
}

function invalid(path: string, type: ProtoType, v: unknown, suffix = ''): Error {
  return invalidArgument(`Invalid value at '${path}' (${type}), ${shown(v)}${suffix}`);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** An int32 field: a whole number in range, given as a number or a decimal string. */
export function int32(path: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) throw invalid(path, 'TYPE_INT32', v);
  return n;
}

/** A float field: a finite number, or a numeric string ("NaN"/"Infinity" are legal in proto3 JSON but useless here). */
export function float(path: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw invalid(path, 'TYPE_FLOAT', v);
  return n;
}

export function string(path: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(path, 'TYPE_STRING', v);
  return v;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A bytes field: base64 (standard or URL-safe, padding optional); anything else fails like Google's decoder. */
export function bytes(path: string, v: unknown): void {
  if (typeof v !== 'string') throw invalid(path, 'TYPE_BYTES', v);
  const body = v.replace(/=+$/, '');
  if (!BASE64.test(v) || body.length % 4 === 1 || (v.length !== body.length && v.length % 4 !== 0)) {
    throw invalid(path, 'TYPE_BYTES', v, ', Base64 decoding failed');
  }
}
