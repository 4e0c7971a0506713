// submitBatch(): jobs → request JSONL (the same buildRequest as streaming mode) → upload (or inline) → batch job,
// recorded in the output folder before anything waits. One batch per model; big inputs split by count and size.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isApiError } from '../errors.ts';
import type { GeminiClient } from '../gemini/client.ts';
import { createBatch } from '../gemini/batches.ts';
import { deleteFile, uploadFile } from '../gemini/files.ts';
import { buildRequest } from '../gemini/request.ts';
import { normaliseJobs } from '../core/job.ts';
import { ModelCheck, modelsOfInput } from '../preflight.ts';
import { DEFAULTS } from '../defaults.ts';
import type { JobsSource } from '../options.ts';
import { OutputFolder } from '../storage/output.ts';
import { loadResumeIndex } from '../storage/resume.ts';
import type { SubmitOptions } from './options.ts';
import { clockOf, makeClient, resolveSubmit } from './options.ts';
import { fromOperation, recoverCreating } from './remote.ts';
import { loadReferences } from '../input/refs.ts';
import { RemoteRefs } from '../input/remote-ref.ts';
import { Chunk } from './spool.ts';
import { BatchEstimate, checkCap } from './budget.ts';
import type { BatchRecord } from './state.ts';
import { JOBS_DIR, STATE_FILE, ensureJobsDir, jobsFileFor, patchRecord, readRecordJobs, readState, removeJobsFile, updateState } from './state.ts';

export interface SubmitResult {
  /** The batches created by this call. */
  batches: BatchRecord[];
  /** Jobs in the input. */
  total: number;
  /** Requests sent in the new batches. */
  submitted: number;
  /** Jobs an earlier run already saved (not sent again). */
  skippedDone: number;
  /** Jobs already waiting in a live batch of this folder (not sent twice). */
  skippedLive: number;
}

const newId = (now: number) => `${now.toString(36)}-${randomBytes(4).toString('hex')}`;

/**
 * Submits every job not yet done in `options.out` as one or more batch jobs and records them in
 * `<out>/batch-state.json` (atomically, before returning). Does not wait: call waitForBatch() or collectBatch().
 */
export async function submitBatch(jobs: JobsSource, options: SubmitOptions = {}): Promise<SubmitResult> {
  const o = resolveSubmit(options);
  checkCap(options.maxCostUsd);
  const clock = clockOf(options);
  const signal = options.signal;
  const dir = resolve(o.out);
  const defaultModel = options.model ?? DEFAULTS.model;
  // The folder's batches live on the server that created them, unless fresh forgets the folder.
  const client = makeClient(options, options.fresh ? undefined : (await readState(dir)).baseUrl);
  // Preflight: every model answers models.get before anything is uploaded for it. An array is checked whole before
  // the folder is touched; a stream, model by model as it is read (before its first request is spooled).
  const modelCheck = (options.preflight ?? DEFAULTS.preflight) ? new ModelCheck(client, { signal }) : undefined;
  for (const model of modelCheck ? (modelsOfInput(jobs, defaultModel) ?? []) : []) await modelCheck!.check(model);
  if (options.fresh) await forgetFolder(dir);
  const folder = await OutputFolder.open(dir); // creates it, clears crash leftovers
  await folder.close();
  await recoverCreating(dir, client, { signal });
  const index = await loadResumeIndex(dir, { verify: options.verify ?? DEFAULTS.verify, signal });
  const live = await liveKeys(dir, signal);
  await ensureJobsDir(dir);
  const spool = await mkdtemp(join(options.tempDir ?? tmpdir(), 'imagebatch-batch-'));

  const chunks = new Map<string, Chunk>();
  const seen = new Set<string>();
  const estimate = new BatchEstimate();
  const remote = new RemoteRefs({ fetch: options.fetch, maxBytes: options.maxReferenceBytes, timeoutMs: options.timeoutMs });
  const capped = options.maxCostUsd !== undefined;
  const held: Chunk[] = [];
  const result: SubmitResult = { batches: [], total: 0, submitted: 0, skippedDone: 0, skippedLive: 0 };
  const startedAt = new Date(clock.now()).toISOString();
  await updateState(dir, (s) => {
    s.baseUrl = client.baseUrl;
    // A submission with nothing else in flight starts a new run (summary wall time); otherwise it joins the current one.
    if (!s.startedAt || s.batches.every((b) => b.phase === 'settled')) s.startedAt = startedAt;
  });
  const send = async (chunk: Chunk) => {
    chunks.delete(chunk.model);
    const record = await sendChunk(dir, client, chunk, o, options);
    result.batches.push(record);
    result.submitted += record.requestCount;
  };
  try {
    // Keyed exactly as streaming mode keys them (path-only reference images are hashed first).
    for await (const job of normaliseJobs(jobs, defaultModel, remote)) {
      signal?.throwIfAborted();
      result.total++;
      const prev = index.get(job.key)?.status;
      if (prev === 'succeeded' || (options.retryFailed && prev !== 'failed')) {
        result.skippedDone++;
        options.onEvent?.({ type: 'skipped', key: job.key, index: job.index, why: 'done', at: clock.now() });
        continue;
      }
      if (live.has(job.key) || seen.has(job.key)) {
        result.skippedLive++;
        continue;
      }
      seen.add(job.key);
      const model = job.model ?? defaultModel;
      await modelCheck?.check(model);
      estimate.add(job, model, options.imageSize, options.maxCostUsd, options.pricePerImageUsd);
      const references = await loadReferences(job, remote, signal);
      const request = buildRequest(job, { aspectRatio: options.aspectRatio, imageSize: options.imageSize, references });
      const line = `${JSON.stringify({ key: job.key, request })}\n`;
      const bytes = Buffer.byteLength(line);
      let chunk = chunks.get(model);
      if (chunk?.full(bytes, o.maxRequestsPerBatch, o.maxBatchBytes)) {
        // With a cap nothing goes out before the whole estimate is known: full chunks wait on disk.
        if (capped) held.push(chunk);
        else await send(chunk);
        chunks.delete(model);
        chunk = undefined;
      }
      if (!chunk) {
        const id = newId(clock.now());
        chunk = new Chunk(id, model, join(spool, `${id}.requests.jsonl`), join(dir, jobsFileFor(id)));
        chunks.set(model, chunk);
      }
      await chunk.add(job, line, bytes);
    }
    estimate.check(options.maxCostUsd);
    for (const chunk of [...held.splice(0), ...chunks.values()]) await send(chunk);
    await updateState(dir, (s) => {
      s.inputJobs = result.total;
      s.skippedAtSubmit = result.skippedDone;
    });
    return result;
  } finally {
    // Chunks never sent: their jobs files name no batch, so they go.
    for (const chunk of [...held, ...chunks.values()]) {
      await chunk.close().catch(() => {});
      await unlink(chunk.jobsPath).catch(() => {});
    }
    await rm(spool, { recursive: true, force: true });
  }
}

async function sendChunk(
  dir: string,
  client: GeminiClient,
  chunk: Chunk,
  o: ReturnType<typeof resolveSubmit>,
  options: SubmitOptions,
): Promise<BatchRecord> {
  const signal = options.signal;
  await chunk.close();
  const inline = chunk.count <= o.inlineMaxRequests && chunk.bytes <= o.inlineMaxBytes;
  const now = new Date(clockOf(options).now());
  const record: BatchRecord = {
    id: chunk.id,
    displayName: `imagebatch-${chunk.id}`,
    model: chunk.model,
    input: inline ? 'inline' : 'file',
    requestCount: chunk.count,
    jobsFile: jobsFileFor(chunk.id),
    phase: 'creating',
    submittedAt: now.toISOString(),
    deadlineAt: new Date(now.getTime() + o.deadlineMs).toISOString(),
    updatedAt: now.toISOString(),
  };
  let requests;
  try {
    requests = inline ? await chunk.inlineRequests(signal) : undefined;
    if (!inline) {
      const file = await uploadFile(client, { path: chunk.requestsPath }, { mimeType: 'jsonl', displayName: record.displayName, signal });
      record.inputFile = file.name;
    }
    // On disk BEFORE the create call: if we die while it is in flight, recovery finds the batch by displayName.
    await updateState(dir, (s) => {
      s.batches.push(record);
    });
  } catch (e) {
    await removeJobsFile(dir, record);
    if (record.inputFile) await deleteFile(client, record.inputFile).catch(() => {});
    throw e;
  } finally {
    await unlink(chunk.requestsPath).catch(() => {});
  }
  let op;
  try {
    op = await createBatch(client, chunk.model, requests ? { requests } : { fileName: record.inputFile! }, { displayName: record.displayName, signal });
  } catch (e) {
    // An HTTP answer means the server refused: nothing was created. Without one, recovery decides later.
    if (isApiError(e) && e.httpStatus > 0) {
      await updateState(dir, (s) => {
        s.batches = s.batches.filter((b) => b.id !== record.id);
      });
      await removeJobsFile(dir, record);
      if (record.inputFile) await deleteFile(client, record.inputFile).catch(() => {});
    }
    throw e;
  }
  const saved = (await patchRecord(dir, record.id, { ...fromOperation(op), phase: 'live' })) ?? record;
  options.onBatchEvent?.({ type: 'batch_submitted', name: op.name, id: record.id, model: record.model, requests: record.requestCount, input: record.input, at: clockOf(options).now() });
  return saved;
}

/** Keys waiting in batches this folder has not settled yet. */
async function liveKeys(dir: string, signal?: AbortSignal): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const r of (await readState(dir)).batches) {
    if (r.phase === 'settled') continue;
    for (const k of (await readRecordJobs(dir, r, signal)).order) keys.add(k);
  }
  return keys;
}

/** fresh: the folder's results (as OutputFolder does) and its batch records; remote batches are not touched. */
async function forgetFolder(dir: string): Promise<void> {
  const folder = await OutputFolder.open(dir, { fresh: true });
  await folder.close();
  await rm(join(dir, STATE_FILE), { force: true });
  await rm(join(dir, JOBS_DIR), { recursive: true, force: true });
}
