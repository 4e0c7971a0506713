// --dry-run: what a run would send and cost, sending nothing.
import { cacheKeyOf } from '../run.ts';
import { estimateCost, knownModel } from '../report/cost.ts';
import { formatCost } from '../report/format.ts';
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
  /** USD per image for models the registry has no price for. */
  pricePerImage?: number;
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
  let unknownRequests = 0;
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
    // A model newer than the registry: its price is the user's --price-per-image, else unknown (never $0).
    if (!knownModel(model) && flags.pricePerImage === undefined) {
      unknown.add(model);
      unknownRequests++;
      continue;
    }
    cost += estimateCost(model, 1, { imageSize: job.imageSize ?? flags.imageSize, pricePerImage: flags.pricePerImage });
  }
  // estimatedCostUsd is the known part; unknownPriceRequests are the requests it leaves out.
  const report = { jobs: count, alreadyDone: done, cached, requests: toSend, images: toSend, estimatedCostUsd: Number(cost.toFixed(4)), unknownPriceModels: [...unknown], unknownPriceRequests: unknownRequests };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ type: 'dry_run', ...report })}\n`);
  } else {
    const lines = [
      `jobs in input:      ${count}`,
      `already done:       ${done}`,
      `served from cache:  ${cached}`,
      `requests to send:   ${toSend} (at least; retries add more)`,
      `images expected:    ${toSend}`,
      `estimated cost:     ${formatCost(cost, { answers: unknownRequests, images: unknownRequests, models: [...unknown] })} (interactive prices)`,
    ];
    if (unknown.size) lines.push(`unknown price for:  ${[...unknown].join(', ')} (give --price-per-image to estimate it)`);
    process.stdout.write(`${lines.join('\n')}\nNothing was sent (--dry-run).\n`);
  }
  return EXIT.ok;
}
