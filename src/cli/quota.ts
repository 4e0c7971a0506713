// The shared-quota flags of `generate` and `imagebatch quota status`.
import type { Command } from 'commander';
import { Option } from 'commander';
import { OptionError } from '../errors.ts';
import type { SharedQuotaOptions } from '../quota/options.ts';
import type { QuotaStatus } from '../quota/status.ts';
import { resolveSharedQuota } from '../quota/options.ts';
import { EXIT } from './exit.ts';
import { int, positive, secondsToMs } from './flags.ts';

export interface SharedQuotaFlags {
  sharedQuota?: string;
  quotaGroup?: string;
  sharedQuotaTimeout?: number;
  sharedQuotaFallback?: 'closed' | 'local';
  expectedProcesses?: number;
}

export function addSharedQuotaOptions(cmd: Command): Command {
  return cmd
    .option('--shared-quota <url>', 'share the project quota with other processes through Redis: redis://[user:pass@]host:port[/db] (env IMAGEBATCH_SHARED_QUOTA)')
    .option('--quota-group <name>', 'with --shared-quota: the group sharing one quota (default: the endpoint and a hash of the key)')
    .option('--shared-quota-timeout <seconds>', 'with --shared-quota: stop (exit 3) after Redis was unreachable this long (default 60)', positive)
    .addOption(new Option('--shared-quota-fallback <mode>', 'with --shared-quota: while Redis is unreachable, start nothing (closed) or pace alone (local)').choices(['closed', 'local']))
    .option('--expected-processes <n>', 'with --shared-quota-fallback local: processes sharing the quota (this one takes rate ÷ n)', int());
}

/** The library's sharedQuota option from the flags; the tuning flags without a Redis URL are a usage error. */
export function sharedQuotaOption(flags: SharedQuotaFlags, env: Record<string, string | undefined> = process.env): SharedQuotaOptions | undefined {
  const url = flags.sharedQuota ?? (env.IMAGEBATCH_SHARED_QUOTA?.trim() || undefined);
  if (url === undefined) {
    const stray = (['quotaGroup', 'sharedQuotaTimeout', 'sharedQuotaFallback', 'expectedProcesses'] as const).find((k) => flags[k] !== undefined);
    if (stray) throw new OptionError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, flags[stray], 'used together with --shared-quota (or IMAGEBATCH_SHARED_QUOTA)');
    return undefined;
  }
  return { url, group: flags.quotaGroup, timeoutMs: secondsToMs(flags.sharedQuotaTimeout), fallback: flags.sharedQuotaFallback, expectedProcesses: flags.expectedProcesses };
}

export function addQuotaCommand(program: Command): void {
  const quota = program.command('quota').description('a quota shared through Redis (see --shared-quota)');
  addSharedQuotaOptions(
    quota
      .command('status')
      .description("show a shared quota group's live state: pause, leases in flight by host/pid, rates, adaptive limit, 429s in the last minute")
      .option('--json', 'print the state as JSON', false),
  ).action(async (flags: SharedQuotaFlags & { json: boolean }) => {
    process.exitCode = await quotaStatus(flags);
  });
}

async function quotaStatus(flags: SharedQuotaFlags & { json: boolean }): Promise<number> {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  let shared;
  try {
    shared = resolveSharedQuota(sharedQuotaOption(flags), process.env);
  } catch (e) {
    err(`imagebatch: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.usage;
  }
  if (!shared) {
    err('imagebatch: quota status needs --shared-quota URL (or IMAGEBATCH_SHARED_QUOTA)');
    return EXIT.usage;
  }
  const { connectRedis } = await import('../quota/connect.ts');
  const { readStatus } = await import('../quota/status.ts');
  const { defaultGroup } = await import('../quota/keys.ts');
  let redis;
  try {
    redis = await connectRedis(shared.url);
  } catch (e) {
    err(`imagebatch: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.usage;
  }
  try {
    let group = shared.group;
    if (group === undefined) {
      // The default group of this endpoint and key, as generate would derive it.
      const { GeminiClient } = await import('../gemini/client.ts');
      let client;
      try {
        client = new GeminiClient({});
      } catch (e) {
        err(`imagebatch: name the group with --quota-group, or set the key the runs use: ${e instanceof Error ? e.message : String(e)}`);
        return EXIT.usage;
      }
      group = defaultGroup(client.baseUrl, client.keyHash);
    }
    const status = await readStatus(redis.client, group, shared.windowMs);
    if (flags.json) process.stdout.write(`${JSON.stringify(status)}\n`);
    else process.stdout.write(formatStatus(status));
    return EXIT.ok;
  } finally {
    await redis.close();
  }
}

function formatStatus(s: QuotaStatus): string {
  const lines = [`quota group ${s.group}`];
  if (s.models.length === 0) lines.push('  no activity recorded (no run used this group in the last day)');
  for (const m of s.models) {
    lines.push(`  ${m.model}`);
    if (m.stop) lines.push(`    STOPPED: ${m.stop}`);
    lines.push(`    pause: ${m.pauseMs !== undefined ? `${(m.pauseMs / 1000).toFixed(1)} s left` : 'none'}`);
    const holders = Object.entries(m.leases);
    lines.push(`    in flight: ${holders.length === 0 ? 0 : holders.map(([h, n]) => `${n} by ${h}`).join(', ')}`);
    lines.push(`    started in the last minute: ${m.startedLastWindow}; 429s: ${m.quota429LastWindow}`);
    if (m.adaptiveLimit !== undefined) lines.push(`    adaptive in-flight limit: ${m.adaptiveLimit}`);
    if (m.learnedRpm !== undefined) lines.push(`    learned rate: ${m.learnedRpm.toFixed(1)} requests/min`);
    const { requests, images } = m.bookedAheadMs;
    if (requests || images) lines.push(`    rate booked ahead: requests ${((requests ?? 0) / 1000).toFixed(2)} s, images ${((images ?? 0) / 1000).toFixed(2)} s`);
  }
  return `${lines.join('\n')}\n`;
}
