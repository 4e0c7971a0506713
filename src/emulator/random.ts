// Seeded randomness: every random choice in the emulator comes from here, so a run with the same seed and the
// same request order is reproducible. Separate named streams keep, e.g., latency draws from shifting fault draws.

/** 32-bit string hash (FNV-1a), used to derive stream seeds. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** sfc32: small, fast, good enough for simulation (not for secrets). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const s = typeof seed === 'number' ? String(seed) : seed;
    this.a = hash32(`a:${s}`);
    this.b = hash32(`b:${s}`);
    this.c = hash32(`c:${s}`);
    this.d = 1;
    // Warm up so close seeds diverge.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [0, max). */
  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  id(length: number, alphabet: string = LOWER_ALNUM): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /** Like Google's responseId: URL-safe base64 characters. */
  urlSafeId(length: number): string {
    return this.id(length, URL_SAFE);
  }
}

/** A stream derived from a root seed and a label: independent of every other label. */
export function stream(seed: number, label: string): Rng {
  return new Rng(`${seed}/${label}`);
}
