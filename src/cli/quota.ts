// The shared-quota flags of `generate` and `imagebatch quota status`.
import type { Command } from 'commander';
import { Option } from 'commander';
import { OptionError, isAuthError, isOptionError, sharedQuotaStatus } from '../index.ts';
import type { QuotaStatus, SharedQuotaOptions } from '../index.ts';
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
    if (stray) throw new OptionError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, flags[stray], 'a --shared-quota URL (or IMAGEBATCH_SHARED_QUOTA) alongside');
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
  let status: QuotaStatus;
  try {
    const option = sharedQuotaOption(flags);
    if (!option) {
      err('imagebatch: quota status needs --shared-quota URL (or IMAGEBATCH_SHARED_QUOTA)');
      return EXIT.usage;
    }
    status = await sharedQuotaStatus(option);
  } catch (e) {
    if (!isOptionError(e) && !isAuthError(e)) throw e;
    const hint = isAuthError(e) ? ' (name the group with --quota-group, or set the key the runs use)' : '';
    err(`imagebatch: ${e.message}${hint}`);
    return EXIT.usage;
  }
  process.stdout.write(flags.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return EXIT.ok;
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
