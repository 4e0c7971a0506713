// Which text encoding a prompt file is in. Editors on Windows (and PowerShell's `>`) write UTF-16; without a look
// at the bytes such a file turns into prompts full of NULs that are sent and paid for.
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be';

export interface Sniffed {
  encoding: TextEncodingName;
  /** How it was found, for messages: a byte-order mark or the pattern of NUL bytes. */
  by: 'bom' | 'nul-pattern' | 'default';
}

/** Bytes looked at to guess an encoding without a BOM. */
const SAMPLE_BYTES = 4096;

/** The encoding of `path` from its first bytes: BOM first (UTF-32 before UTF-16: FF FE 00 00 starts both), else NULs. */
export async function sniffEncoding(path: string): Promise<Sniffed> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SAMPLE_BYTES, 0);
    return sniffBytes(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export function sniffBytes(b: Uint8Array): Sniffed {
  const at = (i: number) => b[i];
  if (b.length >= 4 && at(0) === 0xff && at(1) === 0xfe && at(2) === 0 && at(3) === 0) return { encoding: 'utf-32le', by: 'bom' };
  if (b.length >= 4 && at(0) === 0 && at(1) === 0 && at(2) === 0xfe && at(3) === 0xff) return { encoding: 'utf-32be', by: 'bom' };
  if (b.length >= 2 && at(0) === 0xff && at(1) === 0xfe) return { encoding: 'utf-16le', by: 'bom' };
  if (b.length >= 2 && at(0) === 0xfe && at(1) === 0xff) return { encoding: 'utf-16be', by: 'bom' };
  return fromNuls(b);
}

/**
 * Text in UTF-16/32 is mostly ASCII in practice, so its NULs sit at fixed positions modulo 2 or 4. Counting zero bytes
 * per position tells them apart; UTF-8 text has no NULs at all (a stray one stays UTF-8 and is caught per prompt).
 */
function fromNuls(b: Uint8Array): Sniffed {
  const usable = b.length - (b.length % 4);
  if (usable < 4) return { encoding: 'utf-8', by: 'default' };
  const zeros = [0, 0, 0, 0];
  for (let i = 0; i < usable; i++) if (b[i] === 0) zeros[i % 4]!++;
  const quarter = usable / 4;
  const mostly = (n: number) => n >= quarter * 0.9;
  const rarely = (n: number) => n <= quarter * 0.1;
  const [z0, z1, z2, z3] = zeros as [number, number, number, number];
  if (rarely(z0) && mostly(z2) && mostly(z3)) return { encoding: 'utf-32le', by: 'nul-pattern' };
  if (mostly(z0) && mostly(z1) && rarely(z3)) return { encoding: 'utf-32be', by: 'nul-pattern' };
  if (rarely(z0) && rarely(z2) && mostly(z1) && mostly(z3)) return { encoding: 'utf-16le', by: 'nul-pattern' };
  if (mostly(z0) && mostly(z2) && rarely(z1) && rarely(z3)) return { encoding: 'utf-16be', by: 'nul-pattern' };
  return { encoding: 'utf-8', by: 'default' };
}

/**
 * UTF-16 bytes → UTF-8 bytes, as a stream (the BOM is dropped), so the line reader stays one UTF-8 reader.
 * Unpaired surrogates become U+FFFD. UTF-32 is refused before this point (TextDecoder has no UTF-32).
 */
export function utf16ToUtf8(encoding: 'utf-16le' | 'utf-16be'): Transform {
  const decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: false });
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(done) {
      done(null, Buffer.from(decoder.decode(), 'utf8'));
    },
  });
}
