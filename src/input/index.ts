// Prompt files → jobs. Two passes over a stream: validateInput reports every issue, readJobs yields jobs lazily.
//
// Documented behaviours:
// - txt: one prompt per line, trimmed; blank lines and lines starting with '#' are skipped.
// - jsonl: one object per line with `prompt` and optional key, model, aspectRatio, imageSize, seed, images, out;
//   unknown fields are ignored, so lines may carry notes of their own. Blank lines are skipped.
// - csv: a header row; known columns match case-insensitively ignoring '_' and '-'; several reference images in
//   one `images` cell are separated by ';'; empty optional cells mean "not given".
// - Prompts longer than MAX_PROMPT_LENGTH (100,000 characters) are an issue.
// - Two jobs with the same key (user key, or same prompt and options) are an issue on the later line.
// - Reference images: local files are confined to baseDir (unless allowOutsideRefs), at most 7 MB each, and with
//   the prompt under 20 MB once base64-encoded; http(s) URLs are accepted as they are and not fetched here.
import { DEFAULTS } from '../defaults.ts';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { InputError, OptionError, type InputIssue } from '../errors.ts';
import type { Job } from '../types.ts';
import type { ThinkingLevel } from '../models/index.ts';
import { sniffEncoding, type TextEncodingName } from './encoding.ts';
import { scan, type ScanOptions } from './jobs.ts';
import { modelIssues } from './model-rules.ts';
import { ASPECT_RATIOS, IMAGE_SIZES, THINKING_LEVELS } from './schema.ts';
import { formatFromPath, type InputFormat } from './sources.ts';
import { releaseSpool, spool } from './spool.ts';
import { compileTemplate } from './template.ts';

export { jobKey } from './key.ts';
export { ASPECT_RATIOS, IMAGE_SIZES, MAX_PROMPT_LENGTH, MAX_REF_BYTES, MAX_REQUEST_BYTES } from './schema.ts';
export { CSV_IMAGES_SEPARATOR, type InputFormat } from './sources.ts';
export { MAX_TEMPLATE_EXPANSIONS } from './template.ts';

/** Upper bound on `variants`, to catch typos before they spend quota. */
export const MAX_VARIANTS = 1000;

export interface InputOptions {
  /** 'txt' | 'jsonl' | 'csv'. @default from the extension: .jsonl/.ndjson → jsonl, .csv → csv, anything else (and stdin) → txt */
  format?: InputFormat;
  /** The run's model, used in job keys when a line names none. @default DEFAULT_MODEL (src/models) */
  model?: string;
  /** Run-wide aspect ratio; a line's own value wins. @default undefined (the model's default) */
  aspectRatio?: string;
  /** Run-wide image size; a line's own value wins. @default undefined (the model's default) */
  imageSize?: string;
  /** Run-wide thinking level for models that take levels; a line's own `thinking` wins. @default undefined (the model's default) */
  thinking?: ThinkingLevel;
  /**
   * "a {animal} in {watercolor|ink} style": `{column}` is filled from each row (CSV column, JSONL field, or `prompt`
   * for txt lines); `{a|b|c}` expands to one prompt per alternative (cross product). `{{`/`}}` are literal braces.
   * Only with a template are braces interpreted. @default undefined
   */
  template?: string;
  /** Images per prompt: N jobs with variant 0..N-1 and distinct keys. @default 1 */
  variants?: number;
  /** Reference images outside `baseDir` are refused unless true. @default false */
  allowOutsideRefs?: boolean;
  /** Folder relative reference-image paths resolve against. @default dirname of the input file (cwd for stdin) */
  baseDir?: string;
  /** The stream read when `file` is '-'. @default process.stdin */
  stdin?: Readable;
  /** @default undefined */
  signal?: AbortSignal;
}

/** Pass 1: every issue in the file plus the job count. Content problems are returned; I/O problems throw InputError (line 0). */
export async function validateInput(file: string, options: InputOptions = {}): Promise<{ jobs: number; issues: InputIssue[] }> {
  const { jobs, issues } = await survey(file, options);
  return { jobs, issues };
}

/** Pass 1 as openInput needs it: also every distinct model the jobs use (for the preflight check). */
async function survey(file: string, options: InputOptions): Promise<{ jobs: number; issues: InputIssue[]; models: string[] }> {
  const o = await prepare(file, options);
  let jobs = 0;
  const issues: InputIssue[] = [];
  const models = new Set<string>();
  for await (const item of scan(o)) {
    jobs += item.jobs.length;
    for (const j of item.jobs) models.add(j.model ?? o.model);
    for (const i of item.issues) issues.push(i);
  }
  if (jobs === 0 && issues.length === 0) issues.push({ file: o.file, line: 0, message: 'no prompts' });
  return { jobs, issues, models: [...models] };
}

/**
 * Pass 2: yields jobs lazily. Throws InputError on the first bad line (run validateInput first to get all of them).
 * For '-' (stdin) and for a path that is a pipe, `<(…)` or a FIFO, the bytes are copied once to a temp file shared
 * with validateInput; openInput's cleanup removes it, otherwise it is removed at process exit (or on SIGINT/SIGTERM
 * while the copy is being made).
 */
export function readJobs(file: string, options: InputOptions = {}): AsyncIterable<Job> {
  return generate(file, options);
}

async function* generate(file: string, options: InputOptions): AsyncGenerator<Job> {
  const o = await prepare(file, options);
  let n = 0;
  for await (const item of scan(o)) {
    if (item.issues.length) throw new InputError(item.issues);
    for (const j of item.jobs) {
      n++;
      yield j;
    }
  }
  if (n === 0) throw new InputError([{ file: o.file, line: 0, message: 'no prompts' }]);
}

/** Validates, throws InputError with ALL issues if any, else returns the lazy jobs, their count, the distinct models and a cleanup (removes the copy of stdin or a pipe). */
export async function openInput(
  file: string,
  options: InputOptions = {},
): Promise<{ jobs: AsyncIterable<Job>; count: number; models: string[]; cleanup(): Promise<void> }> {
  const source = file === '-' ? (options.stdin ?? process.stdin) : file;
  const cleanup = () => releaseSpool(source);
  try {
    const { jobs, issues, models } = await survey(file, options);
    if (issues.length) throw new InputError(issues);
    return { jobs: readJobs(file, options), count: jobs, models, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function prepare(file: string, options: InputOptions): Promise<ScanOptions> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const format = options.format ?? (file === '-' ? 'txt' : formatFromPath(file));
  if (!['txt', 'jsonl', 'csv'].includes(format)) throw new OptionError('format', format, "'txt', 'jsonl' or 'csv'");
  const model = options.model ?? DEFAULTS.model;
  if (typeof model !== 'string' || model.trim() === '') throw new OptionError('model', model, 'a model id');
  const variants = options.variants ?? 1;
  if (!Number.isInteger(variants) || variants < 1 || variants > MAX_VARIANTS) throw new OptionError('variants', variants, `an integer from 1 to ${MAX_VARIANTS}`);
  if (options.aspectRatio !== undefined && !(ASPECT_RATIOS as readonly string[]).includes(options.aspectRatio)) {
    throw new OptionError('aspectRatio', options.aspectRatio, `one of ${ASPECT_RATIOS.join(', ')}`);
  }
  if (options.imageSize !== undefined && !(IMAGE_SIZES as readonly string[]).includes(options.imageSize)) {
    throw new OptionError('imageSize', options.imageSize, `one of ${IMAGE_SIZES.join(', ')}`);
  }
  if (options.thinking !== undefined && !(THINKING_LEVELS as readonly string[]).includes(options.thinking)) {
    throw new OptionError('thinking', options.thinking, `one of ${THINKING_LEVELS.join(', ')}`);
  }
  // Run-wide settings the run's model does not take fail once here, not once per line.
  const runSettings = { model, aspectRatio: options.aspectRatio, imageSize: options.imageSize, thinking: options.thinking };
  const [runIssue] = modelIssues(runSettings, { aspectRatio: 'run', imageSize: 'run', thinking: 'run' });
  if (runIssue) throw new OptionError(runIssue.field, runSettings[runIssue.field], runIssue.expected);
  const template = options.template !== undefined ? compileTemplate(options.template) : undefined;

  let path: string;
  let display: string;
  if (file === '-') {
    path = await spool(options.stdin ?? process.stdin, signal);
    display = '<stdin>';
  } else {
    display = file;
    // A pipe, `<(…)` or a FIFO gives its bytes once: copied, so that both passes read them.
    path = (await checkReadable(file)) ? file : await spool(file, signal);
  }
  const encoding = await checkEncoding(path, display);
  const baseDir = resolve(options.baseDir ?? (file === '-' ? process.cwd() : dirname(resolve(file))));
  return {
    file: display,
    path,
    format,
    encoding,
    model,
    aspectRatio: options.aspectRatio,
    ...(options.thinking !== undefined ? { thinking: options.thinking } : {}),
    imageSize: options.imageSize,
    template,
    variants,
    refs: { baseDir, allowOutsideRefs: options.allowOutsideRefs ?? false, memo: new Map(), signal },
    signal,
  };
}

/** UTF-16 (by BOM or by its NULs) is read as such; UTF-32 is refused with its name rather than read as NULs. */
async function checkEncoding(path: string, display: string): Promise<TextEncodingName> {
  const { encoding, by } = await sniffEncoding(path);
  if (encoding === 'utf-32le' || encoding === 'utf-32be') {
    const how = by === 'bom' ? 'by its byte-order mark' : 'by its NUL bytes';
    throw new InputError([{ file: display, line: 0, message: `the file is ${encoding.toUpperCase()} (${how}); save it as UTF-8` }]);
  }
  return encoding;
}

/** Throws InputError when `file` cannot be read; returns whether it is a regular file (else it is read once). */
async function checkReadable(file: string): Promise<boolean> {
  let why: string | undefined;
  let regular = false;
  try {
    const st = await stat(file);
    regular = st.isFile();
    if (st.isDirectory()) why = 'is a directory, not a prompt file';
    else await access(file, constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    why = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'error'})`;
  }
  if (why) throw new InputError([{ file, line: 0, message: why }]);
  return regular;
}
