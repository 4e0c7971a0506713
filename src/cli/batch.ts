// `imagebatch batch submit|status|wait|fetch|cancel|list`: the Batch API workflow, and the batch side of
// `generate --mode batch|auto`. Thin: flags → the public API; exit codes as the main CLI.
import type { Command } from 'commander';
import { startEmulator } from '../emulator/index.ts';
import type { Emulator } from '../emulator/index.ts';
import {
  GeminiClient,
  ModelNotFoundError,
  preflightModels,
  batchStatus,
  cancelBatch,
  chooseMode,
  collectBatch,
  formatIssue,
  isImageBatchError,
  isInputError,
  listBatches,
  openInput,
  runBatch,
  runToDisk,
  submitBatch,
  waitForBatch,
} from '../index.ts';
import { readState as readBatchState } from '../batch/state.ts';
import type { BatchEvent, BatchStatusEntry, Job, RunBatchOptions, RunEvent, RunMode, RunSummary, WaitOptions } from '../index.ts';
import { EXIT, exitCodeFor } from './exit.ts';
import { DEFAULTS } from '../defaults.ts';
import { dflt, int, nonNegative, positive, secondsToMs } from './flags.ts';
import { formatMs, summaryLines } from './progress.ts';
import { installStopHandlers } from './signals.ts';
import { batchLine, deadlineFlag, statusLine } from './batch-format.ts';
import { cliMessage, givenBy, reportConflicts, submitConflicts } from './conflicts.ts';
import { IMAGE_SIZE_HELP, MODEL_HELP, PRICE_PER_IMAGE_HELP, THINKING_HELP, inputOptions, ttyHint, unpricedCapLines } from './input-flags.ts';
import type { InputFlags } from './input-flags.ts';

interface CommonFlags {
  out: string;
  baseUrl?: string;
  json: boolean;
}

interface CollectFlags extends CommonFlags {
  cleanup: boolean;
  finishWithStream: boolean;
  poll?: number;
  maxPoll: number;
  name?: string;
  maxCost?: number;
  pricePerImage?: number;
}

interface SubmitFlags extends CollectFlags, InputFlags {
  emulator: boolean;
  wait: boolean;
  deadline?: number;
  inlineMax?: number;
  maxRequests?: number;
  fresh: boolean;
  maxReferenceBytes?: number;
}

const err = (line: string) => process.stderr.write(`${line}\n`);
const EMULATOR_KEY = 'emulator-key';

export function addBatchCommands(program: Command): void {
  const batch = program
    .command('batch')
    .description('the Gemini Batch API: half price, higher limits, results within 24 h (submit, then wait or fetch later)');
  const common = (c: Command) =>
    c
      .option('-o, --out <dir>', 'output folder (it also holds the batch records)', DEFAULTS.out)
      .option('--base-url <url>', 'Gemini REST base URL (default: GEMINI_BASE_URL, then the one the folder was submitted to)')
      .option('--json', 'JSON lines on stdout instead of text', false);
  const collecting = (c: Command) =>
    common(c)
      .option('--cleanup', 'delete the remote input/output files and batch jobs once their results are saved', false)
      .option('--finish-with-stream', 'run unanswered jobs (expired, failed, near the deadline) in streaming mode', false)
      .option('--poll <seconds>', `first status poll interval (grows ×${DEFAULTS.batch.pollFactor})${dflt(DEFAULTS.batch.pollInitialMs / 1000)}`, positive)
      .option('--max-poll <seconds>', `longest status poll interval${dflt(DEFAULTS.batch.pollMaxMs / 1000)}`, positive)
      .option('--name <batch>', 'only this batch (batches/<id>)')
      .option('--max-cost <usd>', 'submit: refuse a batch whose estimate at batch prices passes this (exit 2); fetched answers past it are flagged', nonNegative)
      .option('--price-per-image <usd>', `${PRICE_PER_IMAGE_HELP}; in batch mode, the price as billed there`, nonNegative);

  collecting(batch.command('submit').argument('<file>', 'prompts (.txt, .jsonl, .csv or -)'))
    .description('submit the prompts not yet done in --out as batch jobs, record them in --out, and return')
    .option('-m, --model <id>', `${MODEL_HELP}${dflt(DEFAULTS.model)}`)
    .option('--aspect-ratio <ratio>', 'e.g. 1:1, 16:9')
    .option('--image-size <size>', IMAGE_SIZE_HELP)
    .option('--thinking <level>', THINKING_HELP)
    .option('--template <text>', 'fill "{column}" from each CSV/JSONL row')
    .option('--variants <n>', `images per prompt${dflt(DEFAULTS.variants)}`, int())
    .option('--format <fmt>', 'txt, jsonl or csv (default: from the extension)')
    .option('--allow-outside-refs', 'allow reference images outside the input file folder', false)
    .option('--max-reference-bytes <n>', 'largest reference image downloaded from a URL (default 20 MB)', int())
    .option('--deadline <duration>', 'with --finish-with-stream: stream what is unfinished near this deadline (e.g. 24h)', deadlineFlag)
    .option('--inline-max <n>', `send batches of at most this many requests inline (0: always upload a file)${dflt(DEFAULTS.batch.inlineMaxRequests)}`, int(0))
    .option('--max-requests <n>', `split into several batch jobs past this many requests${dflt(DEFAULTS.batch.maxRequestsPerBatch)}`, int())
    .option('--fresh', 'forget earlier results and batch records of --out first', false)
    .option('--wait', 'then wait and fetch the results (implied by --emulator)', false)
    .option('--emulator', 'use the built-in emulator (it lives in this process, so --wait is implied)', false)
    .action(async (file: string, flags: SubmitFlags, cmd: Command) => {
      if (reportConflicts(submitConflicts(flags, givenBy(cmd)), err)) {
        process.exitCode = EXIT.usage;
        return;
      }
      process.exitCode = await guarded(flags, () => submitCommand(file, flags));
    });
  collecting(batch.command('wait'))
    .description('poll the batches of --out until they end, saving results as each one finishes')
    .action(async (flags: CollectFlags) => {
      process.exitCode = await guarded(flags, () => waitCommand(flags, true));
    });
  collecting(batch.command('fetch'))
    .description('save the results of the batches of --out that have finished (no waiting)')
    .action(async (flags: CollectFlags) => {
      process.exitCode = await guarded(flags, () => waitCommand(flags, false));
    });
  common(batch.command('status'))
    .description('state, progress, age and time left of every batch of --out')
    .action(async (flags: CommonFlags) => {
      process.exitCode = await guarded(flags, async () => {
        const none = (await readBatchState(flags.out)).batches.length === 0;
        return printStatus(none ? [] : await batchStatus(flags.out, clientOf(flags)), flags.json);
      });
    });
  common(batch.command('cancel'))
    .description('cancel the running batches of --out (their unanswered jobs are recorded at the next fetch)')
    .option('--name <batch>', 'only this batch (batches/<id>)')
    .action(async (flags: CommonFlags & { name?: string }) => {
      process.exitCode = await guarded(flags, async () => (await hasBatches(flags.out)) ? printStatus(await cancelBatch(flags.out, { ...clientOf(flags), name: flags.name }), flags.json, 'no running batch to cancel') : EXIT.usage);
    });
  batch
    .command('list')
    .description('every batch job your key can see (not only this folder\'s)')
    .option('--base-url <url>', 'Gemini REST base URL')
    .option('--json', 'JSON lines on stdout', false)
    .action(async (flags: { baseUrl?: string; json: boolean }) => {
      process.exitCode = await guarded(flags, async () => {
        for (const b of await listBatches(clientOf(flags))) {
          if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'batch', ...b })}\n`);
          else process.stdout.write(`${b.name}  ${(b.state ?? '?').replace('BATCH_STATE_', '')}  ${b.counts.total} requests  ${b.model ?? ''}  ${b.displayName ?? ''}\n`);
        }
        return EXIT.ok;
      });
    });
}

function clientOf(flags: { baseUrl?: string }, emulator?: Emulator) {
  return emulator ? { baseUrl: emulator.url, apiKey: EMULATOR_KEY } : { baseUrl: flags.baseUrl };
}

function hasKey(): boolean {
  return Boolean(process.env.GEMINI_API_KEY?.trim() || process.env.GOOGLE_API_KEY?.trim());
}

/** Runs a batch command, reporting a failure as lines on stderr and its exit code (exitCodeFor). */
async function guarded(flags: { json: boolean; emulator?: boolean }, body: () => Promise<number>): Promise<number> {
  if (!flags.emulator && !hasKey()) {
    err('imagebatch: no API key. Set GEMINI_API_KEY (a --base-url server needs one too), or use `batch submit --emulator`.');
    return EXIT.usage;
  }
  try {
    return await body();
  } catch (e) {
    // Batch commands act on jobs that live on the server and are recorded in the folder: a failure stops work
    // whose state is saved.
    const code = exitCodeFor(e, { started: true });
    if (isInputError(e)) {
      for (const issue of e.issues) err(formatIssue(issue));
      err(`imagebatch: ${e.issues.length} problem(s) in the input; nothing was sent.`);
    } else if (isImageBatchError(e)) {
      err(`imagebatch: ${code === EXIT.runStopped ? 'stopped: ' : ''}${cliMessage(e)}`);
    } else {
      throw e;
    }
    return code;
  }
}

function printer(json: boolean) {
  return {
    batch: (e: BatchEvent) => (json ? process.stdout.write(`${JSON.stringify(e)}\n`) : err(batchLine(e))),
    // Per-job lines only in JSON: a 50,000-request batch would flood a terminal.
    run: (e: RunEvent) => (json && e.type !== 'done' ? process.stdout.write(`${JSON.stringify(e)}\n`) : undefined),
  };
}

function finish(summary: RunSummary, flags: CommonFlags): number {
  if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'done', summary })}\n`);
  else for (const l of summaryLines(summary, flags.out)) err(l);
  return summary.failed > 0 ? EXIT.someFailed : EXIT.ok;
}

function waitOptions(flags: CollectFlags, signal: AbortSignal, emulator?: Emulator): WaitOptions {
  const p = printer(flags.json);
  return {
    ...clientOf(flags, emulator),
    signal,
    name: flags.name,
    cleanup: flags.cleanup,
    finishWithStream: flags.finishWithStream,
    // The built-in emulator finishes a batch in well under a second.
    pollInitialMs: emulator ? Math.min(secondsToMs(flags.poll) ?? DEFAULTS.batch.pollInitialMs, 200) : secondsToMs(flags.poll),
    pollMaxMs: secondsToMs(flags.maxPoll),
    maxCostUsd: flags.maxCost,
    pricePerImageUsd: flags.pricePerImage,
    onBatchEvent: p.batch,
    onEvent: (e) => {
      // A budget warning is worth a line even without --json.
      if (e.type === 'warning' && !flags.json) err(`warning: ${e.message}`);
      p.run(e);
    },
  };
}

async function waitCommand(flags: CollectFlags, wait: boolean, emulator?: Emulator): Promise<number> {
  if (!(await hasBatches(flags.out))) return EXIT.usage;
  const stop = installStopHandlers({ graceMs: 0, notify: (m) => err(m) });
  try {
    const o = waitOptions(flags, AbortSignal.any([stop.soft, stop.hard]), emulator);
    if (wait) return finish(await waitForBatch(flags.out, o), flags);
    const r = await collectBatch(flags.out, o);
    if (r.pending > 0) err(`${r.pending} batch(es) still running; run \`imagebatch batch wait --out ${flags.out}\` to wait for them.`);
    return finish(r.summary, flags);
  } catch (e) {
    const code = stop.exitCode();
    if (code === undefined) throw e;
    err(`Stopped waiting. The batches keep running; run \`imagebatch batch wait --out ${flags.out}\` to pick up.`);
    return code;
  } finally {
    stop.dispose();
  }
}

async function submitCommand(file: string, flags: SubmitFlags): Promise<number> {
  if (file === '-') ttyHint(err);
  const input = await openInput(file, inputOptions(flags));
  const refusal = unpricedCapLines(input.models, flags.maxCost, flags.pricePerImage);
  if (refusal.length > 0) {
    for (const l of refusal) err(l);
    await input.cleanup();
    return EXIT.usage;
  }
  const emulator = flags.emulator ? await startEmulator({}) : undefined;
  try {
    if (emulator && !flags.json) err(`emulator: ${emulator.url} (built in: it stops with this command, so results are fetched now)`);
    // Preflight: every model of the input answers models.get before anything is uploaded or paid (404: exit 2).
    try {
      await preflightModels(new GeminiClient(clientOf(flags, emulator)), input.models);
    } catch (e) {
      if (!(e instanceof ModelNotFoundError)) throw e;
      err(`imagebatch: ${e.message}`);
      err('Nothing was submitted. `imagebatch models` lists the models that exist today.');
      return EXIT.usage;
    }
    const r = await submitBatch(input.jobs, {
      ...clientOf(flags, emulator),
      out: flags.out,
      model: flags.model,
      aspectRatio: flags.aspectRatio,
      imageSize: flags.imageSize,
      fresh: flags.fresh,
      deadlineMs: flags.deadline,
      inlineMaxRequests: flags.inlineMax,
      maxRequestsPerBatch: flags.maxRequests,
      maxCostUsd: flags.maxCost,
      pricePerImageUsd: flags.pricePerImage,
      maxReferenceBytes: flags.maxReferenceBytes,
      // Checked above (a 404 is exit 2 with the CLI's message): the library need not ask again.
      preflight: false,
      onBatchEvent: printer(flags.json).batch,
    });
    const line = `${r.submitted} request(s) in ${r.batches.length} batch job(s); ${r.skippedDone} already done, ${r.skippedLive} already waiting in a batch.`;
    if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'submitted', ...r, batches: r.batches.map((b) => b.name) })}\n`);
    else err(line);
    if (flags.wait || emulator) return await waitCommand(flags, true, emulator);
    if (!flags.json) err(`Recorded in ${flags.out}. Next: imagebatch batch wait --out ${flags.out}`);
    return EXIT.ok;
  } finally {
    await emulator?.close();
    await input.cleanup();
  }
}

async function hasBatches(out: string): Promise<boolean> {
  if ((await readBatchState(out)).batches.length > 0) return true;
  err(`imagebatch: no batch jobs are recorded in ${out}; submit some with \`imagebatch batch submit <file> --out ${out}\`.`);
  return false;
}

function printStatus(entries: BatchStatusEntry[], json: boolean, none = 'no batch jobs in this folder'): number {
  if (json) for (const e of entries) process.stdout.write(`${JSON.stringify({ type: 'batch_status', ...e })}\n`);
  else if (entries.length === 0) process.stdout.write(`${none}\n`);
  else for (const e of entries) process.stdout.write(`${statusLine(e, formatMs)}\n`);
  return EXIT.ok;
}

/** `generate --mode`: runs the chosen mode with the same options object. */
export async function runForMode(mode: RunMode, jobs: AsyncIterable<Job>, options: RunBatchOptions): Promise<RunSummary> {
  return mode === 'batch' ? runBatch(jobs, options) : runToDisk(jobs, options);
}

/** The `generate` flags that pick and steer the mode. */
export interface ModeFlags {
  mode?: RunMode | 'auto';
  deadline?: number;
  batchThreshold?: number;
  finishWithStream: boolean;
  emulator: boolean;
}

/** Picks the mode for `generate` and says why when it is not plain streaming. */
export function chooseRunMode(count: number, flags: ModeFlags, notify: (line: string) => void): RunMode {
  const choice = chooseMode(count, { mode: flags.mode, batchThreshold: flags.batchThreshold, deadlineMs: flags.deadline });
  // Streaming is the quiet default; only a switch to batch is worth a line.
  if (choice.mode === 'batch') notify(`mode: batch (${choice.reason})`);
  return choice.mode;
}

/** The batch-only part of generate's run options (ignored in streaming mode). */
export function batchOptions(flags: ModeFlags, notify: (line: string) => void): Partial<RunBatchOptions> {
  return {
    deadlineMs: flags.deadline,
    finishWithStream: flags.finishWithStream,
    ...(flags.emulator ? { pollInitialMs: 200 } : {}),
    onBatchEvent: (e) => notify(batchLine(e)),
  };
}
