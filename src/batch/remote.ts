// What the folder knows about a batch, kept in step with what the server says; recovery of submissions a
// dead process left half done; and cleanup of the remote files.
import { isApiError } from '../errors.ts';
import type { GeminiClient } from '../gemini/client.ts';
import { batchCounts, deleteBatch, isTerminal, listRemoteBatches } from '../gemini/batches.ts';
import { deleteFile } from '../gemini/files.ts';
import type { BatchOperation } from '../gemini/wire.ts';
import type { Clock } from '../internal/clock.ts';
import { systemClock } from '../internal/clock.ts';
import type { BatchEvent } from './options.ts';
import { clockOf } from './options.ts';
import type { BatchRecord } from './state.ts';
import { patchRecord, readState, removeJobsFile, updateState } from './state.ts';

/** A submission whose create call may or may not have reached the server is resolved after this long. */
export const RECOVER_AFTER_MS = 10 * 60 * 1000;

/** The record fields an operation tells us. */
export function fromOperation(op: BatchOperation): Partial<BatchRecord> {
  const m = op.metadata;
  const patch: Partial<BatchRecord> = { name: op.name, state: m?.state, counts: batchCounts(op) };
  if (m?.createTime) patch.createTime = m.createTime;
  if (m?.endTime) patch.endTime = m.endTime;
  const file = m?.output?.responsesFile ?? op.response?.responsesFile;
  if (file) patch.outputFile = file;
  if (op.error?.message) patch.error = op.error.message;
  return patch;
}

export function stateOf(op: BatchOperation): string {
  return op.metadata?.state ?? 'BATCH_STATE_UNSPECIFIED';
}

export { isTerminal };

/**
 * Records left in 'creating' (the process died between upload and the create answer): find the batch by its
 * displayName and adopt it; if none exists after RECOVER_AFTER_MS, the create never happened: drop the record
 * (its jobs become unsubmitted) and its uploaded file.
 */
export async function recoverCreating(
  dir: string,
  client: GeminiClient,
  options: { signal?: AbortSignal; now?: number; recoverAfterMs?: number } = {},
): Promise<void> {
  const pending = (await readState(dir)).batches.filter((b) => b.phase === 'creating');
  if (pending.length === 0) return;
  const found = new Map<string, BatchOperation>();
  const wanted = new Set(pending.map((b) => b.displayName));
  for await (const op of listRemoteBatches(client, { signal: options.signal })) {
    const dn = op.metadata?.displayName;
    if (dn && wanted.has(dn) && !found.has(dn)) found.set(dn, op);
  }
  // updatedAt is stamped by the state file on the wall clock, so the age is measured on it too.
  const now = options.now ?? systemClock.now();
  for (const r of pending) {
    const op = found.get(r.displayName);
    if (op) {
      await patchRecord(dir, r.id, { ...fromOperation(op), phase: 'live' });
    } else if (now - Date.parse(r.updatedAt) > (options.recoverAfterMs ?? RECOVER_AFTER_MS)) {
      await updateState(dir, (s) => {
        s.batches = s.batches.filter((b) => b.id !== r.id);
      });
      await removeJobsFile(dir, r);
      if (r.inputFile) await deleteFile(client, r.inputFile, { signal: options.signal }).catch(() => {});
    }
  }
}

/**
 * Deletes the uploaded input, the results file and the batch job. Best effort: Google rejects `files.delete`
 * on `files/batch-<id>` (its id passes the 40-character limit of a File id, https://ai.google.dev/api/files#File), and a file may be
 * gone already (48 h retention), so such failures are skipped, not thrown.
 */
export async function cleanupRemote(
  dir: string,
  client: GeminiClient,
  record: BatchRecord,
  options: { signal?: AbortSignal; onBatchEvent?: (e: BatchEvent) => void; clock?: Clock },
): Promise<void> {
  const deleted: string[] = [];
  const attempt = async (what: string, call: () => Promise<void>) => {
    try {
      await call();
      deleted.push(what);
    } catch (e) {
      if (!isApiError(e)) throw e;
    }
  };
  if (record.inputFile) await attempt(record.inputFile, () => deleteFile(client, record.inputFile!, { signal: options.signal }));
  if (record.outputFile) await attempt(record.outputFile, () => deleteFile(client, record.outputFile!, { signal: options.signal }));
  if (record.name && isTerminal(record.state)) await attempt(record.name, () => deleteBatch(client, record.name!, { signal: options.signal }));
  await patchRecord(dir, record.id, { cleanedUp: true });
  options.onBatchEvent?.({ type: 'batch_cleanup', name: record.name ?? record.displayName, deleted, at: clockOf(options).now() });
}
