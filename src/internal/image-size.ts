// An image's real width × height, read from its header (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X), and whether it
// is the size that was asked for. Gemini may silently answer 1K when 4K was asked, or another ratio.

export interface Dimensions {
  width: number;
  height: number;
}

/** Width and height from the header bytes, or undefined when the format is unknown or the header is cut. */
export function imageDimensions(b: Uint8Array): Dimensions | undefined {
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return png(b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpeg(b);
  if (b.length >= 30 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
  return undefined;
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

/** IHDR is always the first chunk: width and height at bytes 16 and 20. */
function png(b: Uint8Array): Dimensions | undefined {
  if (ascii(b, 12, 4) !== 'IHDR') return undefined;
  return positive({ width: u32be(b, 16), height: u32be(b, 20) });
}

/** Walks the markers up to the first start-of-frame (SOF0..SOF15 except DHT, JPG and DAC). */
function jpeg(b: Uint8Array): Dimensions | undefined {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2; // markers without a length
      continue;
    }
    const len = u16be(b, i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > b.length) return undefined;
      return positive({ width: u16be(b, i + 7), height: u16be(b, i + 5) });
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan data or end before any frame header
    i += 2 + len;
  }
  return undefined;
}

function webp(b: Uint8Array): Dimensions | undefined {
  const kind = ascii(b, 12, 4);
  if (kind === 'VP8X') return positive({ width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 });
  if (kind === 'VP8L' && b[20] === 0x2f) {
    const bits = u32be(new Uint8Array([b[24]!, b[23]!, b[22]!, b[21]!]), 0);
    return positive({ width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 });
  }
  if (kind === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) return positive({ width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff });
  return undefined;
}

function positive(d: Dimensions): Dimensions | undefined {
  return d.width > 0 && d.height > 0 ? d : undefined;
}

/**
 * The pixel count each imageSize gives: about the square of 512 / 1024 / 2048 / 4096 whatever the ratio (1K is
 * 1024×1024 at 1:1 and 1584×672 at 21:9; 2K and 4K double the sides). Sizes are 4× apart, so ±40 % is unambiguous.
 * https://ai.google.dev/gemini-api/docs/image-generation ; https://hexdocs.pm/gemini_ex/Gemini.Types.Interactions.ImageConfig.html
 */
const SIDE: Record<string, number> = { '512': 512, '1K': 1024, '2K': 2048, '4K': 4096 };
const AREA_TOLERANCE = 0.4;
/** Google's pixel sizes round each ratio to multiples of 16, so a few percent off is the same ratio. */
const RATIO_TOLERANCE = 0.04;

/** A short description of how `d` differs from what was asked, or undefined when it matches (or nothing was asked). */
export function sizeMismatch(d: Dimensions, asked: { aspectRatio?: string; imageSize?: string }): string | undefined {
  const problems: string[] = [];
  const side = asked.imageSize !== undefined ? SIDE[asked.imageSize] : undefined;
  if (side !== undefined && Math.abs((d.width * d.height) / (side * side) - 1) > AREA_TOLERANCE) problems.push(`imageSize ${asked.imageSize}`);
  const m = asked.aspectRatio !== undefined ? /^(\d+):(\d+)$/.exec(asked.aspectRatio) : null;
  if (m && Number(m[1]) > 0 && Number(m[2]) > 0) {
    const want = Number(m[1]) / Number(m[2]);
    const got = d.width / d.height;
    if (Math.abs(got / want - 1) > RATIO_TOLERANCE) problems.push(`aspectRatio ${asked.aspectRatio}`);
  }
  return problems.length > 0 ? `asked for ${problems.join(' and ')}, got ${d.width}×${d.height}` : undefined;
}
