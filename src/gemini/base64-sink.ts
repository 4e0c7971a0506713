// Streaming base64 decoding into buffers, for images that arrive as base64 inside a JSON body.

/** Sextet value of each byte: standard and URL-safe alphabets; -1 for anything else (padding, whitespace). */
const SEXTET = new Int8Array(256).fill(-1);
for (const [i, ch] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) SEXTET[ch.charCodeAt(0)] = i;
SEXTET[0x2d] = 62; // -
SEXTET[0x5f] = 63; // _

/**
 * Decodes base64 bytes straight into buffers. Why not Buffer.from(text, 'base64'): that needs each chunk as a JS
 * string first, and 4 MB of short-lived strings per image is what grew the young generation (and with it peak RSS)
 * in the memory benchmark. Output goes into slabs of growing size (no copying to grow), joined once at the end
 * into a buffer of the exact size. Characters outside the alphabet are skipped, as Node's decoder does.
 */
export class Base64Sink {
  readonly #full: Buffer[] = [];
  #slab = Buffer.allocUnsafeSlow(0);
  #used = 0;
  #total = 0;
  #acc = 0;
  #sextets = 0;

  write(src: Uint8Array, from: number, to: number): void {
    let i = from;
    while (i < to) {
      // Room for one more group; otherwise the slab is full and the next one starts.
      if (this.#slab.length - this.#used < 3) this.#nextSlab();
      const out = this.#slab;
      let n = this.#used;
      const room = out.length - 3;
      let acc = this.#acc;
      let sextets = this.#sextets;
      // Fast path: whole groups of 4 alphabet characters, which is all of a well-formed image.
      if (sextets === 0) {
        for (; i + 4 <= to && n <= room; i += 4) {
          const a = SEXTET[src[i]!]!;
          const b = SEXTET[src[i + 1]!]!;
          const c = SEXTET[src[i + 2]!]!;
          const d = SEXTET[src[i + 3]!]!;
          if ((a | b | c | d) < 0) break;
          out[n++] = (a << 2) | (b >> 4);
          out[n++] = ((b & 15) << 4) | (c >> 2);
          out[n++] = ((c & 3) << 6) | d;
        }
      }
      // Slow path, one character: a group split across chunks or escapes, padding, whitespace.
      if (i < to && (sextets !== 0 || n <= room)) {
        const v = SEXTET[src[i++]!]!;
        if (v >= 0) {
          acc = (acc << 6) | v;
          if (++sextets === 4) {
            out[n++] = acc >> 16;
            out[n++] = (acc >> 8) & 0xff;
            out[n++] = acc & 0xff;
            acc = 0;
            sextets = 0;
          }
        }
      }
      this.#used = n;
      this.#acc = acc;
      this.#sextets = sextets;
    }
  }

  /** The decoded bytes; a trailing group of 2 or 3 characters gives 1 or 2 bytes (a lone 1 is dropped). */
  end(): Uint8Array {
    if (this.#sextets >= 2) {
      if (this.#slab.length - this.#used < 2) this.#nextSlab();
      const acc = this.#acc << (6 * (4 - this.#sextets));
      this.#slab[this.#used++] = acc >> 16;
      if (this.#sextets === 3) this.#slab[this.#used++] = (acc >> 8) & 0xff;
    }
    const parts = [...this.#full, this.#slab.subarray(0, this.#used)];
    const bytes = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts, this.#total + this.#used);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #nextSlab(): void {
    if (this.#used > 0) {
      this.#full.push(this.#slab.subarray(0, this.#used));
      this.#total += this.#used;
    }
    // 64 KB, doubling up to 1 MB: small images stay small, large ones take few slabs.
    this.#slab = Buffer.allocUnsafeSlow(Math.min(1 << 20, Math.max(64 * 1024, this.#slab.length * 2)));
    this.#used = 0;
  }
}
