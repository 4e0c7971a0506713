// Flag combinations where one flag would be silently ignored: an error (exit 2) when the user must choose, a
// one-line warning when the run can go on as asked. Library errors are re-worded with the flag the user typed.
import type { Command } from 'commander';
import { isOptionError } from '../index.ts';

export interface Conflicts {
  errors: string[];
  warnings: string[];
}

/** True when the user set the flag (on the command line or by environment), not when it holds its default. */
export type Given = (attribute: string) => boolean;

export const givenBy = (cmd: Command): Given => (name) => {
  const src = cmd.getOptionValueSource(name);
  return src === 'cli' || src === 'env';
};

interface GenerateView {
  emulator: boolean;
  fresh: boolean;
  retryFailed: boolean;
  cache: boolean;
  dryRun: boolean;
  finishWithStream: boolean;
  /** Unset means auto (the library's default). */
  mode?: 'stream' | 'batch' | 'auto';
}

/** Streaming-only flags that `--mode batch` ignores (unless --finish-with-stream runs the rest in streaming mode). */
const STREAM_ONLY: Record<string, string> = {
  concurrency: '--concurrency',
  adaptive: '--no-adaptive',
  rpm: '--rpm',
  ipm: '--ipm',
  ordered: '--ordered',
  grace: '--grace',
  cache: '--no-cache',
  cacheDir: '--cache-dir',
  sharedQuota: '--shared-quota',
};

export function generateConflicts(f: GenerateView, given: Given): Conflicts {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (f.emulator && given('baseUrl')) errors.push('--emulator and --base-url both choose the server; give one of them');
  if (!f.emulator && given('emulatorProfile')) errors.push('--emulator-profile only applies with --emulator; add --emulator or drop it');
  if (f.fresh && f.retryFailed) errors.push('--fresh forgets the failures that --retry-failed would re-run; give one of them');
  if (!f.cache && given('cacheDir')) errors.push('--cache-dir names a cache that --no-cache turns off; give one of them');
  if (f.dryRun && f.emulator) warnings.push('--emulator is not started by --dry-run (nothing is sent)');
  if (f.mode !== undefined && f.mode !== 'auto' && given('batchThreshold')) warnings.push(`--batch-threshold only steers --mode auto; --mode ${f.mode} ignores it`);
  if (f.mode === 'stream') {
    if (given('deadline')) warnings.push('--deadline only applies to the Batch API; --mode stream ignores it');
    if (f.finishWithStream) warnings.push('--finish-with-stream only applies to the Batch API; --mode stream ignores it');
  }
  if (f.mode === 'batch' && !f.finishWithStream) {
    const ignored = Object.keys(STREAM_ONLY).filter(given).map((k) => STREAM_ONLY[k]);
    if (ignored.length) warnings.push(`${ignored.join(', ')}: streaming-mode flag(s) that --mode batch ignores (they apply with --finish-with-stream)`);
  }
  return { errors, warnings };
}

export function submitConflicts(f: { emulator: boolean; finishWithStream: boolean }, given: Given): Conflicts {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (f.emulator && given('baseUrl')) errors.push('--emulator and --base-url both choose the server; give one of them');
  if (given('deadline') && !f.finishWithStream) warnings.push('--deadline only applies with --finish-with-stream; without it the batch just runs to its 48 h expiry');
  return { errors, warnings };
}

/** Prints them; true when the command must stop (exit 2). */
export function reportConflicts(c: Conflicts, write: (line: string) => void): boolean {
  for (const w of c.warnings) write(`imagebatch: warning: ${w}`);
  for (const e of c.errors) write(`imagebatch: ${e}`);
  return c.errors.length > 0;
}

/** Library option names → the flags that set them, so a message names what the user typed. */
const FLAG_OF: Record<string, string> = {
  aspectRatio: '--aspect-ratio',
  imageSize: '--image-size',
  model: '--model',
  variants: '--variants',
  format: '--format',
  template: '--template',
  allowOutsideRefs: '--allow-outside-refs',
  maxCostUsd: '--max-cost',
  baseUrl: '--base-url',
  batchThreshold: '--batch-threshold',
  mode: '--mode',
  duration: '--deadline',
  maxReferenceBytes: '--max-reference-bytes',
  project: '--project',
  location: '--location',
  cacheNamespace: '--cache-namespace',
  pricePerImageUsd: '--price-per-image',
};

/** An error message as the CLI shows it: OptionError names the flag (`--aspect-ratio: expected …`). */
export function cliMessage(e: unknown): string {
  if (isOptionError(e)) {
    const flag = FLAG_OF[e.option];
    if (flag) return e.message.replace(`option ${e.option}:`, `${flag}:`);
  }
  return e instanceof Error ? e.message : String(e);
}
