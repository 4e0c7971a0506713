// Reading back the thoughtSignature saved with an image: what a later multi-turn edit of that image must send.
import { readFile } from 'node:fs/promises';
import { StorageError } from '../errors.ts';
import { signatureBytes } from '../internal/signature-text.ts';
import type { ManifestFile } from './manifest.ts';
import { SIGNATURE_KEYWORD, readPngTextBytes } from './metadata.ts';
import { confinedPath } from './names.ts';

/**
 * The thoughtSignature of one saved image (a `files[]` item of a manifest line in the folder `dir`), as the base64
 * bytes the server sent; undefined when the answer had none. Reads where save() put it: the PNG's
 * `imagebatch:thoughtSignature` iTXt record, the `thoughtSignature` field of a JPEG/WebP's `.json` sidecar, or, in
 * folders written before 2026-12, the raw `<image>.signature` file the line's `signature` field names.
 * @throws StorageError when the line says there is one and the file holding it has none (edited or replaced).
 */
export async function readThoughtSignature(dir: string, file: Pick<ManifestFile, 'signatureIn' | 'signature'>): Promise<Uint8Array | undefined> {
  if (file.signatureIn !== undefined) {
    const path = confinedPath(dir, file.signatureIn);
    const data = await readFile(path);
    if (file.signatureIn.endsWith('.json')) {
      const sig: unknown = (JSON.parse(data.toString('utf8')) as { thoughtSignature?: unknown }).thoughtSignature;
      if (typeof sig === 'string') return signatureBytes(sig);
    } else {
      const sig = readPngTextBytes(data, SIGNATURE_KEYWORD);
      if (sig) return sig;
    }
    throw new StorageError(path, `${file.signatureIn} no longer holds its thoughtSignature (was it edited?)`);
  }
  if (file.signature !== undefined) return readFile(confinedPath(dir, file.signature));
  return undefined;
}
