// Deterministic pictures: a gradient and a few shapes whose colours and places come from a hash of the prompt.
// Images are drawn at 1/8 of the nominal pixel size (1:1 1K → 128×128, 16:9 1K → 168×96) so encoding stays
// around a millisecond; `imageBytes` padding can still make each file as large as a benchmark needs.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

/** Nominal 1K sizes per aspect ratio (Gemini image models). */
const BASE_1K: Record<string, [number, number]> = {
  '1:1': [1024, 1024],
  '2:3': [832, 1248],
  '3:2': [1248, 832],
  '3:4': [864, 1184],
  '4:3': [1184, 864],
  '4:5': [896, 1152],
  '5:4': [1152, 896],
  '9:16': [768, 1344],
  '16:9': [1344, 768],
  '21:9': [1536, 672],
  '1:4': [512, 2048],
  '4:1': [2048, 512],
  '1:8': [384, 3072],
  '8:1': [3072, 384],
};

const SIZE_FACTOR: Record<string, number> = { '512': 0.5, '1K': 1, '2K': 2, '4K': 4 };

/** Rendered pixels per nominal pixel. */
export const RENDER_SCALE = 1 / 8;

export const ASPECT_RATIOS = Object.keys(BASE_1K);
export const IMAGE_SIZES = Object.keys(SIZE_FACTOR);

/** Nominal size for an aspect ratio and image size; undefined when either is not a value Gemini accepts. */
export function nominalSize(aspectRatio = '1:1', imageSize = '1K'): { width: number; height: number } | undefined {
  const base = BASE_1K[aspectRatio];
  const f = SIZE_FACTOR[imageSize];
  if (!base || f === undefined) return undefined;
  return { width: Math.round(base[0] * f), height: Math.round(base[1] * f) };
}

/** The size actually rendered: nominal × RENDER_SCALE, at least 8 px per side. */
export function renderSize(aspectRatio?: string, imageSize?: string): { width: number; height: number } {
  const n = nominalSize(aspectRatio, imageSize) ?? { width: 1024, height: 1024 };
  return { width: Math.max(8, Math.round(n.width * RENDER_SCALE)), height: Math.max(8, Math.round(n.height * RENDER_SCALE)) };
}

export interface RenderRequest {
  /** Everything that should change the picture: prompt, request seed, model. */
  key: string;
  width: number;
  height: number;
  format: 'png' | 'jpeg';
  /** Pad the encoded file to about this many bytes (0 = none). */
  padToBytes?: number;
  /** Interim (thought) images are drawn as a flat sketch. */
  sketch?: boolean;
}

function hsl(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

/** RGBA pixels for a key. */
export function drawPixels(key: string, width: number, height: number, sketch = false): Buffer {
  const h = createHash('sha256').update(key).digest();
  const byte = (i: number) => h[i % h.length] ?? 0;
  const hue = (byte(0) / 255) * 360;
  const c1 = hsl(hue, 0.65, 0.55);
  const c2 = hsl((hue + 60 + (byte(1) / 255) * 180) % 360, 0.6, 0.35);
  const px = Buffer.alloc(width * height * 4);
  const shapes = Array.from({ length: 3 + (byte(2) % 3) }, (_, i) => ({
    circle: byte(3 + i * 5) % 2 === 0,
    cx: (byte(4 + i * 5) / 255) * width,
    cy: (byte(5 + i * 5) / 255) * height,
    r: (0.08 + (byte(6 + i * 5) / 255) * 0.22) * Math.min(width, height),
    color: hsl((hue + 120 + (byte(7 + i * 5) / 255) * 120) % 360, 0.8, 0.6),
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      let r = c1[0] + (c2[0] - c1[0]) * t;
      let g = c1[1] + (c2[1] - c1[1]) * t;
      let b = c1[2] + (c2[2] - c1[2]) * t;
      if (sketch) r = g = b = (r + g + b) / 3;
      for (const s of shapes) {
        const dx = x - s.cx;
        const dy = y - s.cy;
        const inside = s.circle ? dx * dx + dy * dy <= s.r * s.r : Math.abs(dx) <= s.r && Math.abs(dy) <= s.r * 0.6;
        if (inside) [r, g, b] = sketch ? [230, 230, 230] : s.color;
      }
      const o = (y * width + x) * 4;
      px[o] = r;
      px[o + 1] = g;
      px[o + 2] = b;
      px[o + 3] = 255;
    }
  }
  return px;
}

let noise = Buffer.alloc(0);

/**
 * The same pseudo-random bytes every time (xorshift32, fixed seed). Padding must not compress: a real image barely
 * does, and zeros would let a gzip-ing emulator shrink a 3 MB answer to a few KB and flatter every measurement.
 */
function filler(n: number): Buffer {
  if (noise.length < n) {
    noise = Buffer.allocUnsafe(Math.max(n, 2 * noise.length));
    let x = 0x9e3779b9;
    for (let i = 0; i < noise.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      noise[i] = x & 0xff;
    }
  }
  return noise.subarray(0, n);
}

/** Adds a private ancillary chunk ("emUl": decoders skip it) before IEND so the file is about `target` bytes. */
export function padPng(png: Buffer, target: number): Buffer {
  const extra = target - png.length - 12;
  if (extra <= 0) return png;
  const iendAt = png.length - 12;
  const chunk = Buffer.alloc(12 + extra);
  chunk.writeUInt32BE(extra, 0);
  chunk.write('emUl', 4, 'latin1');
  filler(extra).copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + extra)) >>> 0, 8 + extra);
  return Buffer.concat([png.subarray(0, iendAt), chunk, png.subarray(iendAt)]);
}

/** Inserts COM segments after SOI (each at most 65533 payload bytes) until the file is about `target` bytes. */
export function padJpeg(jpg: Buffer, target: number): Buffer {
  let missing = target - jpg.length;
  if (missing <= 4) return jpg;
  const segments: Buffer[] = [];
  while (missing > 4) {
    const payload = Math.min(65533, missing - 4);
    const seg = Buffer.alloc(4 + payload);
    filler(payload).copy(seg, 4);
    seg[0] = 0xff;
    seg[1] = 0xfe;
    seg.writeUInt16BE(payload + 2, 2);
    segments.push(seg);
    missing -= payload + 4;
  }
  return Buffer.concat([jpg.subarray(0, 2), ...segments, jpg.subarray(2)]);
}

// Retries re-ask for the same prompt; a small cache of unpadded encodings spares the (slow, pure-JS) JPEG encoder.
const encoded = new Map<string, { data: Buffer; mimeType: string }>();
const CACHE_MAX = 64;

function encode(r: RenderRequest): { data: Buffer; mimeType: string } {
  const cacheKey = `${r.format}|${r.width}x${r.height}|${r.sketch ? 1 : 0}|${r.key}`;
  const hit = encoded.get(cacheKey);
  if (hit) return hit;
  const pixels = drawPixels(r.key, r.width, r.height, r.sketch);
  let out: { data: Buffer; mimeType: string };
  if (r.format === 'jpeg') {
    out = { data: jpeg.encode({ data: pixels, width: r.width, height: r.height }, 85).data, mimeType: 'image/jpeg' };
  } else {
    const png = new PNG({ width: r.width, height: r.height });
    pixels.copy(png.data);
    // RGB output, one filter and a fast deflate level keep encode time near a millisecond.
    out = { data: PNG.sync.write(png, { colorType: 2, deflateLevel: 1, filterType: 1 }), mimeType: 'image/png' };
  }
  if (encoded.size >= CACHE_MAX) encoded.delete(encoded.keys().next().value as string);
  encoded.set(cacheKey, out);
  return out;
}

export function renderImage(r: RenderRequest): { data: Buffer; mimeType: string } {
  const out = encode(r);
  if (!r.padToBytes) return out;
  return { data: out.mimeType === 'image/jpeg' ? padJpeg(out.data, r.padToBytes) : padPng(out.data, r.padToBytes), mimeType: out.mimeType };
}
