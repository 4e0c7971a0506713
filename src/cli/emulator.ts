// `imagebatch emulator`: the local Gemini REST emulator as a standalone server.
import type { Command } from 'commander';
import { startEmulator } from '../emulator/index.ts';
import type { EmulatorOptions } from '../emulator/index.ts';
import { int, nonNegative, positive } from './flags.ts';

interface EmulatorFlags {
  port: number;
  host: string;
  apiKey?: string;
  seed: number;
  timeScale: number;
  latencyMs: number;
  rpm?: number;
  ipm?: number;
  rpd?: number;
  maxInFlight?: number;
  faultRate: number;
  faultBilling429: number;
  faultBare429: number;
  faultCapacity503: number;
  imageBytes: number;
  gzip: boolean;
}

export function addEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('run the local Gemini REST emulator (generateContent, Files, Batches, errors, quotas); prints its URL first')
    .option('-p, --port <n>', 'port (0 picks a free one)', int(0), 0)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--api-key <key>', 'accept only this key (others get 400 API_KEY_INVALID); default: any non-empty key')
    .option('--seed <n>', 'seed for latency, faults and ids', int(0), 1)
    .option('--time-scale <x>', 'real time per emulated time (0.001: a 20 s generation takes 20 ms)', positive, 1)
    .option('--latency-ms <ms>', 'mean generation latency, log-normal (emulated ms)', nonNegative, 0)
    .option('--rpm <n>', 'quota: requests per minute', int(0))
    .option('--ipm <n>', 'quota: images per minute', int(0))
    .option('--rpd <n>', 'quota: requests per day', int(0))
    .option('--max-in-flight <n>', 'concurrency limit (503 overloaded above it)', int())
    .option('--fault-rate <p>', 'probability of a transient fault (500/503/504/reset) per request', nonNegative, 0)
    .option('--fault-billing-429 <p>', 'probability of a billing 429 ("prepayment credits are depleted") per request', nonNegative, 0)
    .option('--fault-bare-429 <p>', 'probability of a 429 without details ("Resource has been exhausted") per request', nonNegative, 0)
    .option('--fault-capacity-503 <p>', 'probability of a 503 MODEL_CAPACITY_EXHAUSTED per request', nonNegative, 0)
    .option('--image-bytes <n>', 'pad images to about this size', int(0), 0)
    .option('--gzip', 'gzip generateContent answers for clients that accept it, as the real API does', false)
    .action(async (flags: EmulatorFlags) => {
      const options: EmulatorOptions = {
        host: flags.host,
        port: flags.port,
        apiKey: flags.apiKey,
        seed: flags.seed,
        timeScale: flags.timeScale,
        latency: flags.latencyMs > 0 ? { distribution: 'lognormal', meanMs: flags.latencyMs } : { distribution: 'fixed', meanMs: 0 },
        quota: { requestsPerMinute: flags.rpm, imagesPerMinute: flags.ipm, requestsPerDay: flags.rpd, concurrency: flags.maxInFlight },
        faults: {
          http500: flags.faultRate / 4,
          http503: flags.faultRate / 4,
          http504: flags.faultRate / 4,
          reset: flags.faultRate / 4,
          billing429: flags.faultBilling429,
          bare429: flags.faultBare429,
          capacity503: flags.faultCapacity503,
        },
        imageBytes: flags.imageBytes,
        gzip: flags.gzip,
      };
      const emu = await startEmulator(options);
      process.stdout.write(`${emu.url}\n`);
      process.stderr.write('Gemini emulator running. Point a client at it with --base-url or GEMINI_BASE_URL. Ctrl-C stops it.\n');
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await emu.close();
    });
}
