// Provenance inside the image: an image found alone still says which prompt and job made it.
// PNG gets iTXt chunks (UTF-8, so any prompt survives); other formats get a `<image>.json` sidecar.
// A part's thoughtSignature (what a later multi-turn edit of that image must send back) travels the same way: one
// durable file per PNG, not two, and a copied image keeps what is needed to go on editing it.
import { crc32 } from 'node:zlib';
import { signatureText } from '../internal/signature-text.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface Provenance {
  prompt: string;
  key: string;
  model: string;
  variant?: number;
}

export function isPng(data: Uint8Array): boolean {
  return data.length > 33 && PNG_SIGNATURE.every((b, i) => data[i] === b);
}

/**
 * An uncompressed international text chunk (keyword, flags, empty language and translated keyword, UTF-8 text),
 * built in one buffer: a signature can be a megabyte, and every saved PNG gets three or four of these.
 */
function iTXt(keyword: string, text: string | Uint8Array): Buffer {
  const kw = Buffer.byteLength(keyword, 'latin1');
  const len = kw + 5 + (typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.byteLength);
  const out = Buffer.allocUnsafe(12 + len);
  out.writeUInt32BE(len, 0);
  out.write('iTXt', 4, 'latin1');
  out.write(keyword, 8, 'latin1');
  out.fill(0, 8 + kw, 13 + kw);
  if (typeof text === 'string') out.write(text, 13 + kw, 'utf8');
  else out.set(text, 13 + kw);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + len)) >>> 0, 8 + len); // over type and data
  return out;
}

/** The iTXt keyword of a PNG's thoughtSignature (its text: the base64 the server sent, byte for byte). */
export const SIGNATURE_KEYWORD = 'imagebatch:thoughtSignature';

const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * Returns the PNG with `Description` (the prompt), `Software` and an `imagebatch` JSON record inserted right after
 * IHDR, and the `signature` (when given) in an `imagebatch:thoughtSignature` record just before IEND, so the pixels
 * still come first however long it is. Anything that is not a well-formed PNG start is returned unchanged (the
 * caller then writes a sidecar): compare the result with the input to know.
 */
export function withPngProvenance(png: Uint8Array, p: Provenance, signature?: Uint8Array): Uint8Array {
  if (!isPng(png)) return png;
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const ihdrLength = buf.readUInt32BE(8);
  if (buf.toString('latin1', 12, 16) !== 'IHDR') return png;
  const afterIhdr = 8 + 12 + ihdrLength;
  const record = JSON.stringify({ key: p.key, model: p.model, ...(p.variant !== undefined ? { variant: p.variant } : {}) });
  const head = [buf.subarray(0, afterIhdr), iTXt('Description', p.prompt), iTXt('Software', 'imagebatch'), iTXt('imagebatch', record)];
  if (!signature) return Buffer.concat([...head, buf.subarray(afterIhdr)]);
  const sig = iTXt(SIGNATURE_KEYWORD, signature);
  // A PNG ends with the 12-byte IEND chunk; one that does not gets the record with the others, after IHDR.
  const end = buf.length - IEND.length;
  if (end > afterIhdr && buf.subarray(end).equals(IEND)) return Buffer.concat([...head, buf.subarray(afterIhdr, end), sig, IEND]);
  return Buffer.concat([...head, sig, buf.subarray(afterIhdr)]);
}

/** The iTXt records of a PNG up to IEND: keyword, whether the text is compressed, and the text's raw bytes. */
function* iTXtRecords(png: Uint8Array): Generator<{ keyword: string; compressed: boolean; text: Buffer }> {
  if (!isPng(png)) return;
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (type === 'IEND') return;
    if (type === 'iTXt') {
      const body = buf.subarray(at + 8, Math.min(buf.length, at + 8 + len));
      // keyword \0 compression-flag compression-method language \0 translated \0 text
      const nul = body.indexOf(0);
      const lang = body.indexOf(0, nul + 3);
      const translated = lang < 0 ? -1 : body.indexOf(0, lang + 1);
      if (nul >= 0 && translated >= 0) yield { keyword: body.toString('latin1', 0, nul), compressed: body[nul + 1] !== 0, text: body.subarray(translated + 1) };
    }
    at += 12 + len;
  }
}

/** The raw text bytes of one iTXt record of a PNG (uncompressed, as imagebatch writes them), or undefined. */
export function readPngTextBytes(png: Uint8Array, keyword: string): Uint8Array | undefined {
  for (const r of iTXtRecords(png)) if (r.keyword === keyword && !r.compressed) return r.text;
  return undefined;
}

/** Reads back the iTXt chunks of a PNG (keyword → text); for tests and for `imagebatch` tooling. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of iTXtRecords(png)) out[r.keyword] = r.text.toString('utf8');
  return out;
}

/** The sidecar for formats without a text chunk we write (JPEG, WebP). */
export function sidecarName(imageName: string): string {
  return `${imageName}.json`;
}

/** The sidecar's text; `thoughtSignature` is the base64 the server sent, as a JSON string. */
export function sidecarJson(p: Provenance, imageName: string, signature?: Uint8Array): string {
  const sig = signature ? { thoughtSignature: signatureText(signature) } : {};
  return `${JSON.stringify({ image: imageName, ...p, ...sig }, null, 2)}\n`;
}
