// Resume: which keys are already settled, trusting the manifest only as far as the files on disk agree with it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { confinedPath } from './names.ts';
import { readManifest, type ManifestFile } from './manifest.ts';
import type { FailureReason } from '../types.ts';

/** What resume needs of a key's last manifest line: small, so 100,000 keys stay a few MB. */
export interface ResumeRecord {
  status: 'succeeded' | 'failed';
  reason?: FailureReason;
  /** Epoch ms of the line's finishedAt. */
  finishedAtMs: number;
}

export interface ResumeIndex {
  /** key → the LAST line for that key, after verification; undefined when not done. */
  get(key: string): ResumeRecord | undefined;
  readonly size: number;
  succeeded: number;
  failed: number;
  /** Succeeded lines whose files were missing or changed (counted as not done). */
  invalid: number;
  /** Unusable manifest lines skipped in the middle of the file. */
  skippedLines: number;
  /** Their 1-based line numbers (the first 100). */
  damagedLines: readonly number[];
}

export interface ResumeOptions {
  /** 'size' trusts a file whose size matches; 'sha256' also re-hashes it. @default 'sha256' */
  verify?: 'size' | 'sha256';
  /** @default undefined */
  signal?: AbortSignal;
  /** Files checked at once. @default 4 */
  concurrency?: number;
}

/**
 * Reads the manifest once, keeps the last line per key (only status, reason, time and the files to verify),
 * then verifies every succeeded key's files (inside the folder, same size, and same sha256 unless verify is 'size').
 * Images on disk without a manifest line are not "done": only the manifest says what finished.
 */
export async function loadResumeIndex(dir: string, options: ResumeOptions = {}): Promise<ResumeIndex> {
  const verify = options.verify ?? 'sha256';
  options.signal?.throwIfAborted();
  const reader = readManifest(dir, { signal: options.signal });
  const last = new Map<string, ResumeRecord & { files?: ManifestFile[] }>();
  for await (const e of reader) {
    const finishedAtMs = Date.parse(e.finishedAt);
    last.set(e.key, {
      status: e.status,
      reason: e.reason,
      finishedAtMs: Number.isNaN(finishedAtMs) ? 0 : finishedAtMs,
      // Only succeeded lines have files to verify; they are dropped once checked.
      files: e.status === 'succeeded' ? e.files.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256, mimeType: '' })) : undefined,
    });
  }

  const toCheck = [...last].filter(([, e]) => e.status === 'succeeded');
  const bad = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < toCheck.length) {
      const [key, e] = toCheck[next++]!;
      options.signal?.throwIfAborted();
      if (!(await filesIntact(dir, e.files ?? [], verify, options.signal))) bad.add(key);
      e.files = undefined;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  // An abort mid-hash looks like a bad file; never return an index built from that.
  options.signal?.throwIfAborted();

  let succeeded = 0;
  let failed = 0;
  for (const [key, entry] of last) {
    if (bad.has(key)) {
      last.delete(key);
      continue;
    }
    delete entry.files;
    if (entry.status === 'succeeded') succeeded++;
    else failed++;
  }
  const map: Map<string, ResumeRecord> = last;
  return {
    get: (key) => map.get(key),
    get size() {
      return map.size;
    },
    succeeded,
    failed,
    invalid: bad.size,
    skippedLines: reader.skipped,
    damagedLines: reader.skippedLines,
  };
}

async function filesIntact(dir: string, files: ManifestFile[], verify: 'size' | 'sha256', signal?: AbortSignal): Promise<boolean> {
  for (const f of files) {
    let path: string;
    try {
      path = confinedPath(dir, f.path);
      const st = await stat(path);
      if (!st.isFile() || st.size !== f.bytes) return false;
    } catch {
      return false;
    }
    if (verify === 'sha256' && (await hashFile(path, signal).catch(() => '')) !== f.sha256) return false;
  }
  return true;
}

async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal })) h.update(chunk as Buffer);
  return h.digest('hex');
}
