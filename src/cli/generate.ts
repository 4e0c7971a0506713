// `imagebatch generate <file>`: the main job.
import type { Command } from 'commander';
import { Option } from 'commander';
import { demoProfile, startEmulator } from '../emulator/index.ts';
import type { Emulator } from '../emulator/index.ts';
import { GeminiClient, ModelNotFoundError, preflightModels, formatIssue, isImageBatchError, isInputError, openInput, vertexBackend, vertexFromEnv } from '../index.ts';
import type { Backend, RunSummary } from '../index.ts';
import { EXIT, exitCodeFor } from './exit.ts';
import { DEFAULTS } from '../defaults.ts';
import { dflt, int, nonNegative, oneOf, positive, secondsToMs } from './flags.ts';
import { dryRun } from './dry-run.ts';
import { ProgressDisplay } from './progress.ts';
import { installStopHandlers } from './signals.ts';
import { batchOptions, chooseRunMode, runForMode } from './batch.ts';
import type { ModeFlags } from './batch.ts';
import { deadlineFlag } from './batch-format.ts';
import { cliMessage, generateConflicts, givenBy, reportConflicts } from './conflicts.ts';
import type { Given } from './conflicts.ts';
import { IMAGE_SIZE_HELP, MODEL_HELP, PRICE_PER_IMAGE_HELP, THINKING_HELP, inputOptions, ttyHint, unpricedCapLines } from './input-flags.ts';
import type { InputFlags } from './input-flags.ts';
import { addSharedQuotaOptions, sharedQuotaOption } from './quota.ts';
import type { SharedQuotaFlags } from './quota.ts';

export interface GenerateFlags extends ModeFlags, InputFlags, SharedQuotaFlags {
  out?: string;
  concurrency?: number;
  adaptive: boolean;
  rpm?: number;
  ipm?: number;
  timeout?: number;
  maxAttempts?: number;
  maxRetryDelay?: number;
  baseUrl?: string;
  emulator: boolean;
  emulatorProfile: 'default' | 'demo';
  json: boolean;
  fresh: boolean;
  retryFailed: boolean;
  cache: boolean;
  cacheDir?: string;
  grace?: number;
  dryRun: boolean;
  maxCost?: number;
  pricePerImage?: number;
  maxReferenceBytes?: number;
  ordered: boolean;
  fsync?: 'always' | 'batch';
  gallery: boolean;
  vertex: boolean;
  project?: string;
  location?: string;
  cacheNamespace?: string;
}

export function addGenerateCommand(program: Command): void {
  const cmd = program
    .command('generate')
    .description('generate one image per prompt (a .txt, .jsonl or .csv file, or - for stdin) into an output folder')
    .argument('<file>', 'prompts: .txt (one per line, # comments), .jsonl ({"prompt", "key"?, "model"?, "aspectRatio"?, "imageSize"?, ...}), .csv (a prompt column), or -')
    .option('-o, --out <dir>', `output folder${dflt(DEFAULTS.out)}`)
    .option('-m, --model <id>', `${MODEL_HELP}${dflt(DEFAULTS.model)}`)
    .option('-c, --concurrency <n>', `most requests in flight (the ceiling when adaptive)${dflt(DEFAULTS.concurrency)}`, int())
    .option('--no-adaptive', 'keep concurrency fixed instead of finding the sustainable level')
    .option('--rpm <n>', 'client-side limit: requests per minute (your quota)', positive)
    .option('--ipm <n>', 'client-side limit: images per minute', positive)
    .option('--aspect-ratio <ratio>', 'e.g. 1:1, 16:9, 9:16')
    .option('--image-size <size>', IMAGE_SIZE_HELP)
    .option('--thinking <level>', THINKING_HELP)
    .option('--timeout <seconds>', `deadline of one attempt, body included${dflt(DEFAULTS.timeoutMs / 1000)}`, positive)
    .option('--max-attempts <n>', `attempts per prompt, the first included${dflt(DEFAULTS.maxAttempts)}`, int())
    .option('--max-retry-delay <seconds>', `a server-announced wait longer than this stops the run (exit 3)${dflt(DEFAULTS.maxRetryDelayMs / 1000)}`, positive)
    .option('--base-url <url>', 'Gemini REST base URL (default: GEMINI_BASE_URL or Google)')
    .option('--emulator', 'start the built-in Gemini emulator and use it (offline, no key needed)', false)
    .addOption(new Option('--emulator-profile <name>', 'emulator behaviour with --emulator').choices(['default', 'demo']).default('default'))
    .option('--json', 'one JSON event per line on stdout instead of the live display', false)
    .option('--fresh', 'start over: forget what earlier runs saved in --out', false)
    .option('--retry-failed', 're-run only the prompts that failed before', false)
    .option('--no-cache', 'do not read or write the shared image cache')
    .option('--cache-dir <dir>', 'cache folder (default: IMAGEBATCH_CACHE_DIR or your user cache folder)')
    .option('--grace <seconds>', `after Ctrl-C, how long in-flight requests may finish${dflt(DEFAULTS.graceMs / 1000)}`, nonNegative)
    .option('--dry-run', 'count requests, images and estimated cost; send nothing', false)
    .option('--max-cost <usd>', 'stop scheduling new work before the spend passes this (exit 3); batch: refuse a batch estimated above it (exit 2)', nonNegative)
    .option('--price-per-image <usd>', PRICE_PER_IMAGE_HELP, nonNegative)
    .option('--template <text>', 'fill "{column}" from each CSV/JSONL row; {a|b} alternatives expand')
    .option('--variants <n>', `images per prompt (separate requests)${dflt(DEFAULTS.variants)}`, int())
    .addOption(new Option('--format <fmt>', 'input format (default: from the extension)').choices(['txt', 'jsonl', 'csv']))
    .option('--allow-outside-refs', 'allow reference images outside the input file folder', false)
    .option('--max-reference-bytes <n>', 'largest reference image downloaded from a URL (default 20 MB)', int())
    .option('--ordered', 'save in input order instead of completion order', false)
    .addOption(new Option('--fsync <policy>', `manifest durability: always or batch${dflt(DEFAULTS.fsync)}`).argParser(oneOf('always', 'batch')))
    .option('--no-gallery', 'do not write index.html')
    .addOption(new Option('--mode <mode>', `stream (now), batch (Batch API: half price, results within 24 h) or auto${dflt('auto')}`).choices(['stream', 'batch', 'auto']))
    .option('--deadline <duration>', 'how long results may take (e.g. 24h); auto picks batch only with one', deadlineFlag)
    .option('--batch-threshold <n>', `auto: use batch from this many prompts on${dflt(DEFAULTS.batchThreshold)}`, int())
    .option('--finish-with-stream', 'batch: run what the batch did not answer (or not before the deadline) in streaming mode', false)
    .option('--vertex', 'use Vertex AI with Application Default Credentials or an Express key (env GOOGLE_GENAI_USE_VERTEXAI=true)', false)
    .option('--project <id>', 'Vertex AI: Google Cloud project (default: GOOGLE_CLOUD_PROJECT, else the credentials\' project)')
    .option('--location <location>', 'Vertex AI: region or global (default: GOOGLE_CLOUD_LOCATION, else global)')
    .option('--cache-namespace <name>', 'share cached answers between endpoints that name the same namespace (e.g. Vertex and the Developer API)');
  addSharedQuotaOptions(cmd).action(async (file: string, flags: GenerateFlags, command: Command) => {
    process.exitCode = await runGenerate(file, flags, givenBy(command));
    });
}

/** `given` says which flags the user set (see conflicts.ts); by default none, so only value-based conflicts count. */
export async function runGenerate(file: string, flags: GenerateFlags, given: Given = () => false): Promise<number> {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  if (reportConflicts(generateConflicts(flags, given), err)) return EXIT.usage;
  const env = process.env;
  const vertex = flags.vertex || vertexFromEnv(env);
  if (!vertex && (flags.project !== undefined || flags.location !== undefined)) {
    err('imagebatch: --project and --location choose a Vertex AI project; add --vertex (or drop them)');
    return EXIT.usage;
  }
  if (vertex && flags.mode === 'batch') {
    err('imagebatch: batch mode is not available on Vertex AI here (Vertex batch prediction works through Cloud Storage or BigQuery).');
    err('Use --mode stream on Vertex, or the Gemini Developer API (GEMINI_API_KEY, without --vertex) for the half-price Batch API.');
    return EXIT.usage;
  }
  if (!vertex && !flags.emulator && !flags.dryRun && !env.GEMINI_API_KEY && !env.GOOGLE_API_KEY) {
    err('imagebatch: no API key. Set GEMINI_API_KEY (get one at https://aistudio.google.com/apikey),');
    err('or run offline on the built-in emulator with --emulator. A --base-url server needs a key too.');
    return EXIT.usage;
  }
  let input;
  try {
    if (file === '-') ttyHint(err);
    input = await openInput(file, inputOptions(flags));
  } catch (e) {
    if (isInputError(e)) {
      for (const issue of e.issues) err(formatIssue(issue));
      err(`imagebatch: ${e.issues.length} problem(s) in the input; nothing was sent.`);
      return exitCodeFor(e);
    }
    throw e;
  }
  const refusal = unpricedCapLines(input.models, flags.maxCost, flags.pricePerImage);
  if (refusal.length > 0) {
    for (const l of refusal) err(l);
    await input.cleanup();
    return EXIT.usage;
  }
  if (flags.dryRun) {
    try {
      return await dryRun(input.jobs, input.count, flags);
    } finally {
      await input.cleanup();
    }
  }

  const out = flags.out ?? DEFAULTS.out;
  let emulator: Emulator | undefined;
  const display = new ProgressDisplay({ stream: flags.json ? process.stdout : process.stderr, mode: flags.json ? 'json' : 'auto', total: input.count, outDir: out });
  const stop = installStopHandlers({ graceMs: secondsToMs(flags.grace) ?? DEFAULTS.graceMs, notify: (m) => display.message(m) });
  try {
    if (flags.emulator) {
      emulator = await startEmulator(flags.emulatorProfile === 'demo' ? demoProfile() : {});
      if (!flags.json) display.message(`emulator: ${emulator.url} (offline, built in)`);
    }
    let backend: Backend | undefined;
    if (vertex) {
      try {
        // The emulator speaks Vertex's Express mode; a real run resolves ADC (or an Express key) before anything is sent.
        backend = await vertexBackend({ project: flags.project, location: flags.location, baseUrl: emulator?.url ?? flags.baseUrl, ...(emulator ? { apiKey: 'emulator-key', project: undefined } : {}) });
      } catch (e) {
        display.stop();
        if (!isImageBatchError(e)) throw e;
        err(`imagebatch: ${cliMessage(e)}`);
        return EXIT.usage;
      }
    }
    let summary: RunSummary;
    let sent = false;
    try {
      // Preflight: every model of the input answers models.get (Vertex: the publisher model) before anything is paid
      // (a 404 here exits 2).
      const client = backend ? new GeminiClient({ backend }) : new GeminiClient({ apiKey: emulator ? 'emulator-key' : undefined, baseUrl: emulator?.url ?? flags.baseUrl });
      await preflightModels(client, input.models, { signal: stop.hard, retry: { maxAttempts: flags.maxAttempts } });
      // Vertex has no Batch API mode here: auto always streams there.
      const mode = vertex ? 'stream' : chooseRunMode(input.count, flags, (m) => display.message(m));
      summary = await runForMode(mode, input.jobs, {
        ...batchOptions(flags, (m) => display.message(m)),
        out: flags.out,
        total: input.count,
        apiKey: emulator ? 'emulator-key' : undefined,
        baseUrl: emulator?.url ?? flags.baseUrl,
        model: flags.model,
        concurrency: flags.concurrency,
        // Negatable flags are true unless given: pass only a --no-… the user typed, so library defaults apply.
        adaptive: flags.adaptive === false ? false : undefined,
        requestsPerMinute: flags.rpm,
        imagesPerMinute: flags.ipm,
        aspectRatio: flags.aspectRatio,
        imageSize: flags.imageSize,
        timeoutMs: secondsToMs(flags.timeout),
        maxAttempts: flags.maxAttempts,
        maxRetryDelayMs: secondsToMs(flags.maxRetryDelay),
        fresh: flags.fresh,
        retryFailed: flags.retryFailed,
        cacheDir: flags.cache ? flags.cacheDir : false,
        maxCostUsd: flags.maxCost,
        pricePerImageUsd: flags.pricePerImage,
        maxReferenceBytes: flags.maxReferenceBytes,
        ordered: flags.ordered,
        fsync: flags.fsync,
        gallery: flags.gallery === false ? false : undefined,
        sharedQuota: sharedQuotaOption(flags),
        // Checked above, up front and with the CLI's own message: the library need not ask again.
        preflight: false,
        backend,
        cacheNamespace: flags.cacheNamespace,
        stopSignal: stop.soft,
        signal: stop.hard,
        onEvent: (e) => {
          if (e.type === 'started') sent = true;
          display.onEvent(e);
        },
      });
    } catch (e) {
      display.stop();
      // A disk that fails after requests went out (full, unmounted) stops a run that had started: exit 3, not 2.
      if (e instanceof ModelNotFoundError && !sent) {
        err(`imagebatch: ${e.message}`);
        err('Nothing was sent. `imagebatch models` lists the models that exist today.');
        return exitCodeFor(e, { started: false });
      }
      const code = exitCodeFor(e, { started: sent });
      if (code === EXIT.runStopped) {
        err(`imagebatch: run stopped: ${(e as Error).message}`);
        err(
          isImageBatchError(e) && e.code === 'STORAGE'
            ? `Everything saved before the failure is in ${out}; fix the folder and run the same command again to resume.`
            : `Everything finished so far is saved in ${out}; run the same command again to resume.`,
        );
        return code;
      }
      if (isImageBatchError(e)) {
        err(`imagebatch: ${cliMessage(e)}`);
        return code;
      }
      throw e;
    }
    display.finish(summary);
    const signalled = stop.exitCode();
    if (signalled !== undefined) {
      err(`Stopped. ${stoppedCounts(summary)} in ${out}; run the same command again to resume.`);
      return signalled;
    }
    return summary.failed > 0 ? EXIT.someFailed : EXIT.ok;
  } finally {
    stop.dispose();
    await emulator?.close();
    await input.cleanup();
  }
}

/** "10 saved by this run (24 of this input's 60 jobs done)": this run's own saves, then the input's state. */
export function stoppedCounts(s: RunSummary): string {
  const own = s.run ? `${s.run.succeeded} saved by this run` : `${s.succeeded} saved`;
  return s.run ? `${own} (${s.succeeded} of this input's ${s.total} jobs done)` : own;
}
