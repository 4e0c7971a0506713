// One summary writer for both modes: summary.json is derived from the folder's manifest, never from counters a
// crash or a resume would lose.
import { summarize } from '../report/summary.ts';
import { readManifest } from '../storage/manifest.ts';
import type { ManifestReader } from '../storage/manifest.ts';
import { writeSummaryFile } from '../storage/output.ts';
import type { RunSummary } from '../types.ts';

export interface SummaryFacts {
  /** Wall time of the run (ms). */
  wallMs: number;
  /** Epoch ms the run started (only images since then count toward images per minute). @default see summarize() */
  startedAt?: number;
  /** Jobs done by an earlier run and not re-run. @default 0 */
  skipped?: number;
  /** Jobs in this run's input. @default the distinct keys in the manifest */
  total?: number;
  /** The total is at least this (the latest input of a batch folder, parts of which may still be running). @default 0 */
  totalAtLeast?: number;
  /** Why the run ended early, when it did. @default none */
  stoppedBy?: string;
  /** Keys of this run's input seen so far: the top level then counts only them (see summarize). @default all keys */
  inputKeys?: ReadonlySet<string>;
  /** Stops reading the manifest. @default none */
  signal?: AbortSignal;
}

/** Summarises `dir`'s manifest, writes `summary.json` atomically and returns the summary. */
export async function writeSummary(dir: string, facts: SummaryFacts): Promise<RunSummary> {
  const reader = readManifest(dir, { signal: facts.signal });
  const summary = await summarize(reader, {
    wallMs: facts.wallMs,
    skipped: facts.skipped ?? 0,
    ...(facts.total !== undefined ? { total: facts.total } : {}),
    ...(facts.startedAt !== undefined ? { startedAt: facts.startedAt } : {}),
    ...(facts.inputKeys !== undefined ? { inputKeys: facts.inputKeys } : {}),
  });
  noteDamagedLines(summary, reader);
  summary.total = Math.max(summary.total, facts.totalAtLeast ?? 0);
  if (facts.stoppedBy !== undefined) summary.stoppedBy = facts.stoppedBy;
  await writeSummaryFile(dir, summary);
  return summary;
}

/** Puts the damaged lines the reader skipped into summary.folder, so they are reported, not silently dropped. */
export function noteDamagedLines(summary: RunSummary, reader: Pick<ManifestReader, 'skipped' | 'skippedLines'>): void {
  if (reader.skipped === 0 || !summary.folder) return;
  summary.folder.damaged = reader.skipped;
  summary.folder.damagedLines = [...reader.skippedLines];
}
