// Batch API: create (inline or file input), get, list, cancel, delete. The lifecycle is computed from the
// scaled clock on every read (no timers): PENDING for pendingMs, RUNNING for msPerRequest per request, then
// SUCCEEDED (or FAILED / EXPIRED by option; CANCELLED via :cancel). Each line's outcome is decided once at
// creation (faults, lineErrorEvery, validation); answers are rendered only when read, deterministically.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { BatchOperation, BatchState, BatchStats, GenerateContentBatch, InlinedResponse, Status } from '../gemini/wire.ts';
import { readLines } from '../internal/jsonl.ts';
import type { CounterStore } from './counters.ts';
import type { FaultPlan } from './faults.ts';
import type { FileStore } from './files.ts';
import { GRPC_CODES, HttpError, MESSAGES, invalidArgument } from './errors.ts';
import type { AnswerKind, ModelProfile } from './generate.ts';
import { buildResponse, modelProfile, parseGenerateRequest } from './generate.ts';
import { camelizeKeys, isRecord, readJson, sendJson, timestamp } from './http.ts';
import type { ResolvedOptions } from './options.ts';
import type { Rng } from './random.ts';
import { stream } from './random.ts';

const BATCH_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const OUTPUT_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';
const KINDS: AnswerKind[] = ['ok', 'textOnly', 'imageSafety', 'promptBlock'];
const ERROR = 255;

interface Item {
  key?: string;
  metadata?: Record<string, string>;
  request?: unknown;
  /** The line itself was unusable. */
  invalid?: string;
}

interface Job {
  id: string;
  profile: ModelProfile;
  displayName?: string;
  fileName?: string;
  inline?: Item[];
  input?: Buffer[];
  count: number;
  /** Index into KINDS, or ERROR (then `errors` holds the Status). */
  outcome: Uint8Array;
  errors: Map<number, Status>;
  createdReal: number;
  createdWall: number;
  cancelled?: { real: number; processed: number };
  inlineOutput?: InlinedResponse[];
}

export interface BatchDeps {
  options: ResolvedOptions;
  rng: Rng;
  faults: FaultPlan;
  files: FileStore;
  counters: CounterStore;
  now: () => number;
  /** The 404 a call on this model gets, if any. */
  modelRefusal: (id: string, method: string, apiVersion: string) => HttpError | undefined;
}

const grpc = (name: string, message: string): Status => ({ code: GRPC_CODES[name] ?? 13, message });

function faultStatus(kind: string): Status | undefined {
  switch (kind) {
    case 'http400':
      return grpc('INVALID_ARGUMENT', 'Request contains an invalid argument.');
    case 'http503':
    case 'reset':
      return grpc('UNAVAILABLE', 'The model is overloaded. Please try again later.');
    case 'http504':
    case 'hang':
      return grpc('DEADLINE_EXCEEDED', 'The request timed out. Please try again.');
    case 'http500':
    case 'truncated':
      return grpc('INTERNAL', 'An internal error has occurred.');
    case 'billing429':
      return grpc('RESOURCE_EXHAUSTED', MESSAGES.prepaymentDepleted);
    case 'bare429':
      return grpc('RESOURCE_EXHAUSTED', MESSAGES.exhausted);
    case 'capacity503':
      return grpc('UNAVAILABLE', 'No capacity available for model on the server');
    default:
      return undefined;
  }
}

export class BatchStore {
  private readonly jobs = new Map<string, Job>();
  private readonly batchRng: Rng;

  constructor(private readonly deps: BatchDeps) {
    this.batchRng = stream(deps.options.seed, 'batch-faults');
  }

  private async *items(job: Job): AsyncGenerator<Item> {
    if (job.inline) {
      yield* job.inline;
      return;
    }
    for await (const { text } of readLines(Readable.from(job.input ?? []))) {
      if (text.trim() === '') continue;
      let line: unknown;
      try {
        line = camelizeKeys(JSON.parse(text));
      } catch {
        yield { invalid: 'Invalid JSON payload received. The input line is not valid JSON.' };
        continue;
      }
      if (!isRecord(line)) yield { invalid: 'Invalid JSON payload received. Each line must be an object.' };
      else yield { ...(typeof line.key === 'string' ? { key: line.key } : {}), request: line.request };
    }
  }

  /** The body limit is Google's 20 MB request limit, which is what bounds inline batches. */
  async create(req: IncomingMessage, res: ServerResponse, model: string, apiVersion: string): Promise<void> {
    const { value } = await readJson(req);
    const refused = this.deps.modelRefusal(model, 'batchGenerateContent', apiVersion);
    if (refused) throw refused;
    const body = camelizeKeys(value);
    const batch = isRecord(body) && isRecord(body.batch) ? body.batch : undefined;
    const input = batch && isRecord(batch.inputConfig) ? batch.inputConfig : undefined;
    if (!batch || !input) throw invalidArgument('* BatchGenerateContentRequest.batch.input_config: input_config is required.\n');
    const now = this.deps.now();
    const job: Job = {
      id: '',
      profile: modelProfile(model),
      count: 0,
      outcome: new Uint8Array(0),
      errors: new Map(),
      createdReal: now,
      createdWall: Date.now(),
    };
    if (typeof batch.displayName === 'string') job.displayName = batch.displayName;
    if (typeof input.fileName === 'string') {
      const content = this.deps.files.content(input.fileName);
      if (!content) throw invalidArgument(`Input file ${input.fileName} was not found.`);
      job.fileName = input.fileName.startsWith('files/') ? input.fileName : `files/${input.fileName}`;
      job.input = content;
    } else if (isRecord(input.requests) && Array.isArray(input.requests.requests) && input.requests.requests.length > 0) {
      job.inline = input.requests.requests.map((r: unknown) => {
        if (!isRecord(r)) return { invalid: 'Invalid inlined request.' };
        const item: Item = { request: r.request };
        if (isRecord(r.metadata)) item.metadata = r.metadata as Record<string, string>;
        return item;
      });
    } else {
      throw invalidArgument('* BatchGenerateContentRequest.batch.input_config: needs file_name or a non-empty requests.requests list.\n');
    }
    await this.decide(job);
    if (job.count === 0) throw invalidArgument('The batch has no requests.');
    do job.id = this.deps.rng.id(36);
    while (this.jobs.has(job.id));
    this.jobs.set(job.id, job);
    this.deps.counters.batchCreated(job.count);
    // At a small timeScale a job can already be done when create answers: its output file must exist then too.
    this.ensureOutputFile(job);
    sendJson(res, 200, this.operation(job, true));
  }

  /** Decides every line's outcome once, in input order. */
  private async decide(job: Job): Promise<void> {
    const outcomes: number[] = [];
    const every = this.deps.options.batch.lineErrorEvery;
    for await (const item of this.items(job)) {
      const i = outcomes.length;
      let err: Status | undefined;
      let kind: AnswerKind = 'ok';
      if (item.invalid !== undefined) err = grpc('INVALID_ARGUMENT', item.invalid);
      else {
        try {
          const req = parseGenerateRequest(item.request, job.profile);
          const fault = this.deps.faults.pick(req.prompt, this.batchRng);
          err = fault ? faultStatus(fault) : undefined;
          if (fault && !err) kind = fault as AnswerKind;
        } catch (e) {
          err = grpc('INVALID_ARGUMENT', e instanceof HttpError ? e.message : 'Invalid request.');
        }
      }
      if (!err && every !== undefined && (i + 1) % every === 0) err = grpc('INTERNAL', 'Internal error encountered.');
      if (err) job.errors.set(i, err);
      outcomes.push(err ? ERROR : KINDS.indexOf(kind));
    }
    job.outcome = Uint8Array.from(outcomes);
    job.count = outcomes.length;
  }

  private answer(job: Job, i: number, item: Item): InlinedResponse {
    const err = job.errors.get(i);
    if (err) return { error: err };
    const kind = KINDS[job.outcome[i] ?? 0] ?? 'ok';
    const req = parseGenerateRequest(item.request, job.profile);
    const responseId = stream(this.deps.options.seed, `batch/${job.id}/${i}`).urlSafeId(24);
    return { response: buildResponse({ profile: job.profile, req, kind, responseId, imageBytes: this.deps.options.imageBytes, signatureChars: this.deps.options.thoughtSignatureChars }) };
  }

  private async *outputLines(job: Job): AsyncGenerator<string> {
    let i = 0;
    for await (const item of this.items(job)) {
      const a = this.answer(job, i++, item);
      yield `${JSON.stringify({ ...(item.key !== undefined ? { key: item.key } : {}), ...a })}\n`;
    }
  }

  private status(job: Job): { state: BatchState; processed: number; changedReal: number; endReal?: number } {
    const { pendingMs, msPerRequest, expire, failJob } = this.deps.options.batch;
    const scale = this.deps.options.timeScale;
    if (job.cancelled) return { state: 'BATCH_STATE_CANCELLED', processed: job.cancelled.processed, changedReal: job.cancelled.real, endReal: job.cancelled.real };
    const e = (this.deps.now() - job.createdReal) / scale;
    const startReal = job.createdReal + pendingMs * scale;
    if (e < pendingMs) return { state: 'BATCH_STATE_PENDING', processed: 0, changedReal: job.createdReal };
    if (expire) return { state: 'BATCH_STATE_EXPIRED', processed: 0, changedReal: startReal, endReal: startReal };
    const runMs = job.count * msPerRequest;
    if (e < pendingMs + runMs) {
      const processed = Math.min(job.count, Math.floor((e - pendingMs) / Math.max(msPerRequest, 1e-9)));
      return { state: 'BATCH_STATE_RUNNING', processed, changedReal: startReal };
    }
    const endReal = startReal + runMs * scale;
    return { state: failJob ? 'BATCH_STATE_FAILED' : 'BATCH_STATE_SUCCEEDED', processed: job.count, changedReal: endReal, endReal };
  }

  private stats(job: Job, state: BatchState, processed: number): BatchStats {
    let failed = 0;
    for (let i = 0; i < processed; i++) if (job.outcome[i] === ERROR) failed++;
    const counts: [keyof BatchStats, number][] = [['requestCount', job.count]];
    if (state === 'BATCH_STATE_PENDING' || state === 'BATCH_STATE_RUNNING') counts.push(['pendingRequestCount', job.count - processed]);
    if (state === 'BATCH_STATE_FAILED') counts.push(['failedRequestCount', job.count]);
    else counts.push(['successfulRequestCount', processed - failed], ['failedRequestCount', failed]);
    const stats: BatchStats = {};
    for (const [k, v] of counts) if (v > 0) stats[k] = String(v);
    return stats;
  }

  private wall(job: Job, real: number): string {
    return timestamp(job.createdWall + (real - job.createdReal));
  }

  private operation(job: Job, withInline: boolean): BatchOperation {
    const st = this.status(job);
    const name = `batches/${job.id}`;
    const meta: GenerateContentBatch = { '@type': BATCH_TYPE, model: `models/${job.profile.id}`, name, state: st.state };
    if (job.displayName !== undefined) meta.displayName = job.displayName;
    if (job.fileName) meta.inputConfig = { fileName: job.fileName };
    meta.createTime = this.wall(job, job.createdReal);
    if (st.endReal !== undefined) meta.endTime = this.wall(job, st.endReal);
    meta.updateTime = this.wall(job, st.changedReal);
    meta.batchStats = this.stats(job, st.state, st.processed);
    const op: BatchOperation = { name, metadata: meta };
    if (st.endReal !== undefined) op.done = true;
    if (st.state === 'BATCH_STATE_FAILED') op.error = grpc('INTERNAL', 'The batch job failed: internal error while processing requests.');
    if (st.state === 'BATCH_STATE_EXPIRED') op.error = grpc('DEADLINE_EXCEEDED', 'The batch job expired: it was pending or running for more than 48 hours.');
    if (st.state === 'BATCH_STATE_SUCCEEDED') {
      if (job.fileName) {
        const file = `files/batch-${job.id}`;
        meta.output = { responsesFile: file };
        op.response = { '@type': OUTPUT_TYPE, responsesFile: file };
      } else if (withInline) {
        job.inlineOutput ??= job.inline!.map((item, i) => ({ ...this.answer(job, i, item), ...(item.metadata ? { metadata: item.metadata } : {}) }));
        meta.output = { inlinedResponses: { inlinedResponses: job.inlineOutput } };
        op.response = { '@type': OUTPUT_TYPE, inlinedResponses: { inlinedResponses: job.inlineOutput } };
      }
    }
    // Key order as in Google's captures: metadata fields, then name/state last.
    const { state, name: n, ...rest } = meta;
    op.metadata = { ...rest, state, name: n };
    return op;
  }

  /** Registers the output file the first time a finished file job is read. */
  private ensureOutputFile(job: Job): void {
    if (!job.fileName || this.status(job).state !== 'BATCH_STATE_SUCCEEDED') return;
    const id = `batch-${job.id}`;
    if (this.deps.files.has(id)) return;
    this.deps.files.addGenerated(id, 'application/jsonl', () => this.outputLines(job));
  }

  private find(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new HttpError(404, `Requested entity was not found.`);
    this.ensureOutputFile(job);
    return job;
  }

  get(res: ServerResponse, id: string): void {
    sendJson(res, 200, this.operation(this.find(id), true));
  }

  list(res: ServerResponse, url: URL): void {
    const pageSize = Math.min(100, Math.max(1, Number(url.searchParams.get('pageSize')) || 50));
    const token = url.searchParams.get('pageToken');
    const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalidArgument('Invalid page token.');
    const all = [...this.jobs.values()];
    for (const j of all) this.ensureOutputFile(j);
    const page = all.slice(start, start + pageSize).map((j) => this.operation(j, false));
    const body: { operations?: BatchOperation[]; nextPageToken?: string } = {};
    if (page.length) body.operations = page;
    if (start + pageSize < all.length) body.nextPageToken = Buffer.from(String(start + pageSize)).toString('base64url');
    sendJson(res, 200, body);
  }

  cancel(res: ServerResponse, id: string): void {
    const job = this.find(id);
    const st = this.status(job);
    if (st.endReal === undefined) job.cancelled = { real: this.deps.now(), processed: st.processed };
    sendJson(res, 200, {});
  }

  delete(res: ServerResponse, id: string): void {
    this.find(id);
    this.jobs.delete(id);
    sendJson(res, 200, {});
  }
}
