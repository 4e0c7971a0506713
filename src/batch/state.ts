// The folder's record of its batch jobs (`<out>/batch-state.json`) and the jobs each one carries
// (`<out>/.batch/<id>.jobs.jsonl`). Written atomically and BEFORE any long wait, so a process that dies
// never loses track of a batch it paid for: `wait`/`fetch` in a new process pick up from these files.
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StorageError } from '../errors.ts';
import { readLines } from '../internal/jsonl.ts';
import { writeFileAtomic } from '../storage/atomic.ts';
import { confinedPath } from '../storage/names.ts';
import type { Job } from '../types.ts';

export const STATE_FILE = 'batch-state.json';
export const JOBS_DIR = '.batch';

export interface RecordCounts {
  total: number;
  pending: number;
  succeeded: number;
  failed: number;
}

/**
 * One batch job this folder submitted.
 * phase: 'creating' (uploaded, create sent, no name known yet), 'live' (created, results not yet in the folder),
 * 'settled' (terminal; its answers, or its unanswered jobs, are in the manifest).
 */
export interface BatchRecord {
  /** Local id: names the jobs file and the remote displayName `imagebatch-<id>`. */
  id: string;
  /** `batches/<id>` once created. */
  name?: string;
  displayName: string;
  model: string;
  input: 'file' | 'inline';
  /** `files/<id>` of the uploaded JSONL (file input only). */
  inputFile?: string;
  requestCount: number;
  /** Relative to the output folder. */
  jobsFile: string;
  phase: 'creating' | 'live' | 'settled';
  /** Last state the server reported (BATCH_STATE_*). */
  state?: string;
  counts?: RecordCounts;
  outputFile?: string;
  /** ISO times: ours (submittedAt, deadlineAt, updatedAt, settledAt) and the server's (createTime, endTime). */
  submittedAt: string;
  createTime?: string;
  endTime?: string;
  /** With finishWithStream, unanswered jobs are streamed from (deadlineAt - margin) on. */
  deadlineAt: string;
  updatedAt: string;
  settledAt?: string;
  /** The operation's error message (failed / expired jobs). */
  error?: string;
  /** Remote input, output and batch were deleted (cleanup). */
  cleanedUp?: boolean;
}

/** The folder's batch-state.json: what this folder submitted (not the server's BatchState enum, see gemini/wire.ts). */
export interface BatchFolderState {
  v: 1;
  /** The base URL the batches live on (never a key). */
  baseUrl?: string;
  /** Jobs in the latest submitted input, done ones included (summary total). */
  inputJobs?: number;
  /** Jobs the latest submission left out because an earlier run had done them. */
  skippedAtSubmit?: number;
  /** ISO time of the first submission (summary wall time). */
  startedAt?: string;
  batches: BatchRecord[];
}

const empty = (): BatchFolderState => ({ v: 1, batches: [] });

export async function readState(dir: string): Promise<BatchFolderState> {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw new StorageError(path, `cannot read ${STATE_FILE}: ${(e as Error).message}`, { cause: e });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new StorageError(path, `${STATE_FILE} is not valid JSON; it lists the batch jobs of this folder, so it is never overwritten blindly`);
  }
  const s = v as Partial<BatchFolderState> | null;
  if (!s || s.v !== 1 || !Array.isArray(s.batches)) throw new StorageError(path, `${STATE_FILE} has an unknown format`);
  return s as BatchFolderState;
}

// Read-modify-write cycles of one process are serialised per folder; the file itself is replaced atomically.
const locks = new Map<string, Promise<unknown>>();

export async function updateState<T>(dir: string, change: (s: BatchFolderState) => T | Promise<T>): Promise<T> {
  const key = resolve(dir);
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(async () => {
    const s = await readState(key);
    const out = await change(s);
    await writeFileAtomic(join(key, STATE_FILE), `${JSON.stringify(s, null, 2)}\n`);
    return out;
  });
  const tail = run.catch(() => {});
  locks.set(key, tail);
  void tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return run;
}

/** Applies `patch` to the record with that local id (no-op when it is gone). */
export async function patchRecord(dir: string, id: string, patch: Partial<BatchRecord>): Promise<BatchRecord | undefined> {
  return updateState(dir, (s) => {
    const r = s.batches.find((b) => b.id === id);
    if (r) Object.assign(r, patch, { updatedAt: new Date().toISOString() });
    return r ? { ...r } : undefined;
  });
}

export function jobsFileFor(id: string): string {
  return `${JOBS_DIR}/${id}.jobs.jsonl`;
}

export async function ensureJobsDir(dir: string): Promise<void> {
  await mkdir(join(dir, JOBS_DIR), { recursive: true });
}

export async function removeJobsFile(dir: string, record: Pick<BatchRecord, 'jobsFile'>): Promise<void> {
  await unlink(confinedPath(dir, record.jobsFile)).catch(() => {});
}

export interface RecordJobs {
  byKey: Map<string, Job>;
  /** Keys in submission order (the results file keeps it: used for lines without a key). */
  order: string[];
}

/** The jobs of one batch, read line by line from its jobs file. */
export async function readRecordJobs(dir: string, record: Pick<BatchRecord, 'jobsFile'>, signal?: AbortSignal): Promise<RecordJobs> {
  const path = confinedPath(dir, record.jobsFile);
  const byKey = new Map<string, Job>();
  const order: string[] = [];
  try {
    for await (const l of readLines(path, signal)) {
      if (l.text.trim() === '') continue;
      const job = JSON.parse(l.text) as Job;
      if (typeof job.key !== 'string' || typeof job.prompt !== 'string') continue;
      byKey.set(job.key, job);
      order.push(job.key);
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new StorageError(path, `cannot read the jobs of a batch: ${(e as Error).message}`, { cause: e });
  }
  return { byKey, order };
}

/** Only what a later line needs: the key, file naming, and what the request was built from. */
export function jobLine(job: Job): string {
  return `${JSON.stringify(job)}\n`;
}
