// One process of the shared-quota benchmark: connects, says "ready", waits for "go" on stdin, runs its jobs through
// generateImages and prints one JSON line { ok, failed }.
import { createInterface } from 'node:readline';
import { generateImages } from '../src/run.ts';
import type { GenerateOptions } from '../src/options.ts';

const [baseUrl, tag, nText, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson!) as GenerateOptions;
const jobs = Array.from({ length: Number(nText) }, (_, i) => `${tag} harbour at dawn ${i}`);
// Start-up is not part of the run for either kind of row: the Redis client's module loads before "ready", as the
// run's own code does (it is loaded lazily, only with a shared quota).
if (options.sharedQuota) await import('ioredis');
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'go') break;
let ok = 0;
let failed = 0;
try {
  for await (const r of generateImages(jobs, { ...options, baseUrl, apiKey: 'bench-key' })) {
    if (r.status === 'succeeded') ok++;
    else failed++;
  }
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
}
process.stdout.write(`${JSON.stringify({ ok, failed })}\n`);
process.exit(0);
