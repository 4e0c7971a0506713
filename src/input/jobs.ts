// The one scan both passes share: records → validated jobs with keys and indexes, or issues, one record at a time.
import { Buffer } from 'node:buffer';
import type { InputIssue } from '../errors.ts';
import type { Job, ReferenceImage } from '../types.ts';
import type { TextEncodingName } from './encoding.ts';
import { jobKey } from './key.ts';
import { modelIssues } from './model-rules.ts';
import type { ThinkingLevel } from '../models/index.ts';
import { resolveRefs, type RefContext } from './refs.ts';
import { parseFields, parsePrompt, type FieldIssue } from './schema.ts';
import { readRecords, type InputFormat } from './sources.ts';
import type { CompiledTemplate } from './template.ts';

/** Options after defaults and validation. */
export interface ScanOptions {
  /** Name used in issues and job.source ('<stdin>' for '-'). */
  file: string;
  /** The file actually read (a temp copy for stdin). */
  path: string;
  format: InputFormat;
  /** UTF-8, or UTF-16 transcoded while reading. @default 'utf-8' */
  encoding?: TextEncodingName;
  model: string;
  aspectRatio?: string;
  imageSize?: string;
  thinking?: ThinkingLevel;
  template?: CompiledTemplate;
  variants: number;
  refs: RefContext;
  signal?: AbortSignal;
}

export interface ScanItem {
  line: number;
  /** Empty when the record has issues. */
  jobs: Job[];
  issues: InputIssue[];
}

/**
 * Duplicate rule: two jobs with the same key (the same user `key`, or the same prompt and options without one) are
 * an issue on the later line, naming the first. Keeps only a Map key → first line, so big files stream.
 */
export async function* scan(o: ScanOptions): AsyncGenerator<ScanItem> {
  const seen = new Map<string, number>();
  let index = 0;
  for await (const rec of readRecords(o.path, o.format, !o.template, o.signal, o.encoding)) {
    o.signal?.throwIfAborted();
    const at = (i: FieldIssue): InputIssue => ({ file: o.file, line: rec.line, ...(i.field ? { field: i.field } : {}), message: i.message });
    if (!rec.value) {
      yield { line: rec.line, jobs: [], issues: (rec.issues ?? []).map(at) };
      continue;
    }
    const built = await buildJobs(rec.value, rec.line, o);
    if (built.issues.length) {
      // Still name a repeated user key, so one validation pass shows every problem of the line.
      const k = rec.value.key;
      const first = typeof k === 'string' ? seen.get(k) : undefined;
      if (first !== undefined) built.issues.push({ field: 'key', message: `duplicate key "${String(k)}" (first used on line ${first})` });
      yield { line: rec.line, jobs: [], issues: built.issues.map(at) };
      continue;
    }
    const dups: FieldIssue[] = [];
    const mine = new Set<string>();
    for (const j of built.jobs) {
      const first = seen.get(j.key) ?? (mine.has(j.key) ? rec.line : undefined);
      if (first !== undefined) dups.push(duplicate(j, first, rec.value.key !== undefined));
      mine.add(j.key);
    }
    if (dups.length) {
      yield { line: rec.line, jobs: [], issues: dups.map(at) };
      continue;
    }
    for (const j of built.jobs) {
      seen.set(j.key, rec.line);
      j.index = index++;
    }
    yield { line: rec.line, jobs: built.jobs, issues: [] };
  }
}

function duplicate(j: Job, firstLine: number, userKey: boolean): FieldIssue {
  if (userKey) return { field: 'key', message: `duplicate key "${j.key}" (first used on line ${firstLine})` };
  return {
    field: 'prompt',
    message: `same prompt and options as line ${firstLine} (job key ${j.key}); remove it, give it a key, or use variants for more images`,
  };
}

async function buildJobs(value: Record<string, unknown>, line: number, o: ScanOptions): Promise<{ jobs: Job[]; issues: FieldIssue[] }> {
  const f = parseFields(value);
  const issues = [...f.issues];
  const prompts: string[] = [];
  if (o.template) {
    const t = o.template.expand(value);
    issues.push(...t.issues);
    for (const p of t.prompts ?? []) {
      const r = parsePrompt(p);
      if (r.prompt !== undefined) prompts.push(r.prompt);
      else issues.push(...r.issues);
    }
  } else {
    const r = parsePrompt(value.prompt);
    if (r.prompt !== undefined) prompts.push(r.prompt);
    issues.push(...r.issues);
  }
  const fields = f.fields;
  if (issues.length || !fields) return { jobs: [], issues: dedupe(issues) };

  const origin = (k: 'aspectRatio' | 'imageSize' | 'thinking') => (fields[k] !== undefined ? 'line' : 'run') as 'line' | 'run';
  const ruleIssues = modelIssues(
    { model: fields.model ?? o.model, aspectRatio: fields.aspectRatio ?? o.aspectRatio, imageSize: fields.imageSize ?? o.imageSize, thinking: fields.thinking ?? o.thinking },
    { aspectRatio: origin('aspectRatio'), imageSize: origin('imageSize'), thinking: origin('thinking') },
  );
  if (ruleIssues.length) return { jobs: [], issues: ruleIssues };

  let images: ReferenceImage[] | undefined;
  if (fields.images?.length) {
    const promptBytes = Math.max(...prompts.map((p) => Buffer.byteLength(p)));
    const r = await resolveRefs(fields.images, promptBytes, o.refs);
    if (r.issues.length) return { jobs: [], issues: r.issues };
    images = r.images;
  }

  const jobs: Job[] = [];
  prompts.forEach((prompt, p) => {
    // A user key shared by several template expansions gets `~<n>` so each expansion stays distinct.
    const key = fields.key !== undefined && prompts.length > 1 ? `${fields.key}~${p}` : fields.key;
    for (let v = 0; v < o.variants; v++) {
      const job: Job = { key: '', index: -1, prompt };
      if (fields.model !== undefined) job.model = fields.model;
      const aspectRatio = fields.aspectRatio ?? o.aspectRatio;
      const imageSize = fields.imageSize ?? o.imageSize;
      if (aspectRatio !== undefined) job.aspectRatio = aspectRatio;
      if (imageSize !== undefined) job.imageSize = imageSize;
      const thinking = fields.thinking ?? o.thinking;
      if (thinking !== undefined) job.thinking = thinking;
      if (fields.seed !== undefined) job.seed = fields.seed;
      if (o.variants > 1) job.variant = v;
      if (images) job.images = images.map((i) => ({ ...i }));
      if (fields.out !== undefined) job.out = fields.out;
      job.source = { file: o.file, line };
      job.key = jobKey({ ...job, key }, o.model);
      jobs.push(job);
    }
  });
  return { jobs, issues: [] };
}

/** Several expansions of one template can fail the same way; report each distinct problem once. */
function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.field ?? ''}\n${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
