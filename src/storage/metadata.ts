// Provenance inside the image: an image found alone still says which prompt and job made it.
// PNG gets iTXt chunks (UTF-8, so any prompt survives); other formats get a `<image>.json` sidecar.
import { crc32 } from 'node:zlib';

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

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

/** An uncompressed international text chunk: keyword, flags, empty language and translated keyword, UTF-8 text. */
function iTXt(keyword: string, text: string): Buffer {
  return chunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
}

/**
 * Returns the PNG with `Description` (the prompt), `Software` and an `imagebatch` JSON record inserted right after
 * IHDR. Anything that is not a well-formed PNG start is returned unchanged.
 */
export function withPngProvenance(png: Uint8Array, p: Provenance): Uint8Array {
  if (!isPng(png)) return png;
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const ihdrLength = buf.readUInt32BE(8);
  if (buf.toString('latin1', 12, 16) !== 'IHDR') return png;
  const afterIhdr = 8 + 12 + ihdrLength;
  const record = JSON.stringify({ key: p.key, model: p.model, ...(p.variant !== undefined ? { variant: p.variant } : {}) });
  return Buffer.concat([
    buf.subarray(0, afterIhdr),
    iTXt('Description', p.prompt),
    iTXt('Software', 'imagebatch'),
    iTXt('imagebatch', record),
    buf.subarray(afterIhdr),
  ]);
}

/** Reads back the iTXt chunks of a PNG (keyword → text); for tests and for `imagebatch` tooling. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isPng(png)) return out;
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (type === 'iTXt') {
      const body = buf.subarray(at + 8, at + 8 + len);
      const nul = body.indexOf(0);
      // keyword \0 compression-flag compression-method language \0 translated \0 text
      const lang = body.indexOf(0, nul + 3);
      const translated = body.indexOf(0, lang + 1);
      out[body.toString('latin1', 0, nul)] = body.toString('utf8', translated + 1);
    }
    if (type === 'IEND') break;
    at += 12 + len;
  }
  return out;
}

/** The sidecar for formats without a text chunk we write (JPEG, WebP). */
export function sidecarName(imageName: string): string {
  return `${imageName}.json`;
}

export function sidecarJson(p: Provenance, imageName: string): string {
  return `${JSON.stringify({ image: imageName, ...p }, null, 2)}\n`;
}
