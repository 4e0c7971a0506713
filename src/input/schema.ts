// Limits and the per-line field schema shared by every input format (zod, so messages name the field).
import { z } from 'zod';

/** Aspect ratios the image models accept (https://ai.google.dev/gemini-api/docs/image-generation; the last four only on 3.1-flash-image). */
export const ASPECT_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9', '1:4', '4:1', '1:8', '8:1'] as const;
/** Thinking levels (`generationConfig.thinkingConfig.thinkingLevel`, sent upper-case); which a model takes is in the registry. */
export const THINKING_LEVELS = ['minimal', 'low', 'medium', 'high'] as const;
/** Image sizes; "512" is the 3.1-flash-image half-K size. */
export const IMAGE_SIZES = ['1K', '2K', '4K', '512'] as const;

/** Longest prompt accepted, in UTF-16 code units. Far beyond any useful image prompt, small enough to keep a bad line from eating memory. */
export const MAX_PROMPT_LENGTH = 100_000;
/** Per reference image, raw bytes (the inline-data limit we enforce before base64). */
export const MAX_REF_BYTES = 7 * 1024 * 1024;
/** Whole request: base64 of every reference image plus the prompt must stay under this. */
export const MAX_REQUEST_BYTES = 20 * 1024 * 1024;
/** Longest user key and `out` stem. */
export const MAX_KEY_LENGTH = 512;
export const MAX_OUT_LENGTH = 200;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const text = (what: string) =>
  z.string({ error: (iss) => (iss.input === undefined ? 'is required' : `must be ${what}`) });

/**
 * Characters that show nothing: controls (Cc), format characters (Cf: zero-width space/joiners, BOM, bidi marks),
 * separators and spaces (Z, \s), and the blank letters that render empty (Hangul fillers, Braille blank).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\s\u115F\u1160\u3164\uFFA0\u2800]/gu;

/** True when nothing visible is left once invisible characters are removed. */
export function isInvisible(s: string): boolean {
  return s.replace(INVISIBLE, '') === '';
}

export const promptSchema = text('a string')
  .trim()
  .min(1, 'is empty')
  .max(MAX_PROMPT_LENGTH, `is longer than ${MAX_PROMPT_LENGTH} characters`)
  // A NUL is never meant: it comes from a UTF-16/32 file read as UTF-8, or from binary data.
  .refine((p) => !p.includes('\u0000'), 'contains a NUL character (binary data, or a UTF-16/32 file?)')
  .refine((p) => p === '' || p.includes('\u0000') || !isInvisible(p), 'has only invisible characters (control, format or zero-width)');

/** Model ids as they may appear in a URL path: no spaces, no '..', no query characters. */
const MODEL_RE = /^(models\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Every optional per-line field. Unknown fields are stripped (ignored), so JSONL lines may carry notes of their own. */
export const fieldsSchema = z.object({
  key: text('a string').min(1, 'is empty').max(MAX_KEY_LENGTH, `is longer than ${MAX_KEY_LENGTH} characters`).optional(),
  model: text('a string')
    .regex(MODEL_RE, 'is not a model id')
    .refine((m) => !m.includes('..'), 'is not a model id')
    .optional(),
  aspectRatio: z.enum(ASPECT_RATIOS, { error: `must be one of ${ASPECT_RATIOS.join(', ')}` }).optional(),
  imageSize: z.enum(IMAGE_SIZES, { error: `must be one of ${IMAGE_SIZES.join(', ')}` }).optional(),
  thinking: z.enum(THINKING_LEVELS, { error: `must be one of ${THINKING_LEVELS.join(', ')}` }).optional(),
  seed: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(INT32_MIN, 'must fit in 32 bits')
    .max(INT32_MAX, 'must fit in 32 bits')
    .optional(),
  images: z.array(text('a path or URL').min(1, 'is empty'), { error: 'must be an array of paths or URLs' }).optional(),
  out: text('a string').trim().min(1, 'is empty').max(MAX_OUT_LENGTH, `is longer than ${MAX_OUT_LENGTH} characters`).optional(),
});

export type RowFields = z.infer<typeof fieldsSchema>;

export interface FieldIssue {
  field?: string;
  message: string;
}

/** Zod issues → `{field, message}` with the field as a dotted path (`images.1`). */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({
    field: i.path.length ? i.path.map(String).join('.') : undefined,
    message: i.message,
  }));
}

export function parseFields(value: Record<string, unknown>): { fields?: RowFields; issues: FieldIssue[] } {
  const r = fieldsSchema.safeParse(value);
  return r.success ? { fields: r.data, issues: [] } : { issues: toFieldIssues(r.error) };
}

export function parsePrompt(value: unknown, field = 'prompt'): { prompt?: string; issues: FieldIssue[] } {
  const r = promptSchema.safeParse(value);
  return r.success ? { prompt: r.data, issues: [] } : { issues: toFieldIssues(r.error).map((i) => ({ ...i, field })) };
}
