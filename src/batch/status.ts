// Looking at batches: the folder's own (status, cancel) and every batch of the account (list).
import { isApiError } from '../errors.ts';
import { batchCounts, cancelRemoteBatch, listRemoteBatches } from '../gemini/batches.ts';
import type { BatchClientOptions } from './options.ts';
import { BATCH_EXPIRY_MS, clockOf, makeClient } from './options.ts';
import { fetchOperation, observe, openFolder } from './collect.ts';
import type { FolderContext } from './collect.ts';
import type { BatchRecord, RecordCounts } from './state.ts';
import { readState } from './state.ts';
import { streamAt } from './wait.ts';

export interface BatchStatusEntry {
  /** `batches/<id>`; undefined while a create call is unresolved. */
  name?: string;
  /** Local id (names the jobs file, and the displayName imagebatch-<id>). */
  id: string;
  model: string;
  input: 'file' | 'inline';
  requests: number;
  /** 'creating' | 'live' (results not yet in the folder) | 'settled' (in the folder). */
  phase: BatchRecord['phase'];
  /** BATCH_STATE_* as last seen (fresh from the server unless the batch is settled or cleaned up). */
  state?: string;
  counts?: RecordCounts;
  createTime?: string;
  /** Since the server created it (or since submission). */
  ageMs: number;
  /** Until the 48 h expiry; 0 once passed; undefined once the batch ended. */
  expiresInMs?: number;
  /** Until finishWithStream would take over. */
  streamInMs?: number;
  /** Why the last status read failed (the entry then shows the last known state). */
  error?: string;
}

export interface StatusOptions extends BatchClientOptions {
  /** Also ask the server about settled batches. @default false (their last known state is shown) */
  refreshSettled?: boolean;
}

function entryOf(r: BatchRecord, now: number, error?: string): BatchStatusEntry {
  const created = Date.parse(r.createTime ?? r.submittedAt);
  const ended = r.phase === 'settled' || r.endTime !== undefined;
  const e: BatchStatusEntry = { id: r.id, model: r.model, input: r.input, requests: r.requestCount, phase: r.phase, ageMs: Math.max(0, now - created) };
  if (r.name) e.name = r.name;
  if (r.state) e.state = r.state;
  if (r.counts) e.counts = r.counts;
  if (r.createTime) e.createTime = r.createTime;
  if (!ended) {
    e.expiresInMs = Math.max(0, created + BATCH_EXPIRY_MS - now);
    e.streamInMs = Math.max(0, streamAt(r) - now);
  }
  if (error) e.error = error;
  return e;
}

/** State, counts, age and time left of every batch of the folder `out`, fresh from the server. */
export async function batchStatus(out: string, options: StatusOptions = {}): Promise<BatchStatusEntry[]> {
  const ctx = await openFolder(out, options);
  const entries: BatchStatusEntry[] = [];
  for (const r of (await readState(ctx.dir)).batches) {
    entries.push(await refresh(ctx, r, options, r.phase === 'live' || (options.refreshSettled === true && !r.cleanedUp)));
  }
  return entries;
}

async function refresh(ctx: FolderContext, r: BatchRecord, options: BatchClientOptions, ask: boolean): Promise<BatchStatusEntry> {
  const clock = clockOf(options);
  if (!ask || !r.name) return entryOf(r, clock.now());
  try {
    const op = await fetchOperation(ctx, r, options.signal);
    return entryOf(await observe(ctx, r, op, options), clock.now());
  } catch (e) {
    if (!isApiError(e)) throw e;
    return entryOf(r, clock.now(), e.message);
  }
}

/**
 * Cancels the folder's live batches (or only `name`). Their unanswered jobs are written at the next
 * collectBatch()/waitForBatch(): as failed results, or streamed with finishWithStream.
 */
export async function cancelBatch(out: string, options: BatchClientOptions & { name?: string } = {}): Promise<BatchStatusEntry[]> {
  const ctx = await openFolder(out, options);
  const entries: BatchStatusEntry[] = [];
  for (const r of (await readState(ctx.dir)).batches) {
    if (r.phase !== 'live' || !r.name || (options.name && r.name !== options.name)) continue;
    await cancelRemoteBatch(ctx.client, r.name, { signal: options.signal });
    entries.push(await refresh(ctx, r, options, true));
  }
  return entries;
}

export interface BatchListEntry {
  name: string;
  displayName?: string;
  model?: string;
  state?: string;
  counts: RecordCounts;
  createTime?: string;
  /** From imagebatch (displayName imagebatch-<id>). */
  ours: boolean;
}

/** Every batch job the key can see (not only this folder's), newest pages as the server orders them. */
export async function listBatches(options: BatchClientOptions & { pageSize?: number } = {}): Promise<BatchListEntry[]> {
  const client = makeClient(options);
  const out: BatchListEntry[] = [];
  for await (const op of listRemoteBatches(client, { signal: options.signal, pageSize: options.pageSize })) {
    const m = op.metadata;
    const e: BatchListEntry = { name: op.name, counts: batchCounts(op), ours: m?.displayName?.startsWith('imagebatch-') === true };
    if (m?.displayName) e.displayName = m.displayName;
    if (m?.model) e.model = m.model.replace(/^models\//, '');
    if (m?.state) e.state = m.state;
    if (m?.createTime) e.createTime = m.createTime;
    out.push(e);
  }
  return out;
}
