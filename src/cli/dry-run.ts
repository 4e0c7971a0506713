// --dry-run: what a run would send and cost, sending nothing.
import { cacheKeyOf } from '../run.ts';
import { estimateCost, knownModel } from '../report/cost.ts';
import { ImageCache } from '../storage/cache.ts';
import { loadResumeIndex } from '../storage/resume.ts';
import type { Job } from '../index.ts';
import { DEFAULTS } from '../defaults.ts';
import { EXIT } from './exit.ts';

export interface DryRunFlags {
  out?: string;
  model?: string;
  aspectRatio?: string;
  imageSize?: string;
  fresh: boolean;
  retryFailed: boolean;
  cache: boolean;
  cacheDir?: string;
  baseUrl?: string;
  emulator: boolean;
  json: boolean;
}

export async function dryRun(jobs: AsyncIterable<Job>, count: number, flags: DryRunFlags): Promise<number> {
  const index = flags.fresh ? undefined : await loadResumeIndex(flags.out ?? DEFAULTS.out, { verify: 'size' });
  // The cache is per endpoint; --emulator would start a new emulator (a new URL), for which it holds nothing.
  const cache = flags.cache && !flags.emulator ? await ImageCache.open(flags.cacheDir ?? process.env.IMAGEBATCH_CACHE_DIR) : undefined;
  let done = 0;
  let cached = 0;
  let toSend = 0;
  let cost = 0;
  const unknown = new Set<string>();
  for await (const job of jobs) {
    const prev = index?.get(job.key);
    if (prev?.status === 'succeeded' || (flags.retryFailed && prev?.status !== 'failed')) {
      done++;
      continue;
    }
    if (cache && (await cache.get(cacheKeyOf(job, { ...flags, model: flags.model ?? DEFAULTS.model })))) {
      cached++;
      continue;
    }
    toSend++;
    const model = job.model ?? flags.model ?? DEFAULTS.model;
    if (!knownModel(model)) unknown.add(model);
    cost += estimateCost(model, 1, { imageSize: job.imageSize ?? flags.imageSize });
  }
  const report = { jobs: count, alreadyDone: done, cached, requests: toSend, images: toSend, estimatedCostUsd: Number(cost.toFixed(4)), unknownPriceModels: [...unknown] };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ type: 'dry_run', ...report })}\n`);
  } else {
    const lines = [
      `jobs in input:      ${count}`,
      `already done:       ${done}`,
      `served from cache:  ${cached}`,
      `requests to send:   ${toSend} (at least; retries add more)`,
      `images expected:    ${toSend}`,
      `estimated cost:     $${cost.toFixed(4)} (interactive prices)`,
    ];
    if (unknown.size) lines.push(`unknown price for:  ${[...unknown].join(', ')} (counted as $0)`);
    process.stdout.write(`${lines.join('\n')}\nNothing was sent (--dry-run).\n`);
  }
  return EXIT.ok;
}
