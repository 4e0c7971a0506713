// Options of the shared quota (`--shared-quota`), applied and validated in one place. Pure: no Redis client here.
import { DEFAULTS } from '../defaults.ts';
import { OptionError } from '../errors.ts';

export interface SharedQuotaOptions {
  /** redis://[user:pass@]host:port[/db] or rediss://… (TLS). */
  url: string;
  /** The quota group. @default the endpoint plus a hash of the API key (never the key itself) */
  group?: string;
  /** How long the run waits for an unreachable Redis before it stops (exit 3). @default 60000 */
  timeoutMs?: number;
  /** While Redis is unreachable: 'closed' starts nothing; 'local' paces in-process at rate ÷ expectedProcesses. @default 'closed' */
  fallback?: 'closed' | 'local';
  /** Processes sharing the group, for the 'local' fallback's share of the rate. @default 1 */
  expectedProcesses?: number;
}

export interface ResolvedSharedQuota {
  url: string;
  group?: string;
  timeoutMs: number;
  fallback: 'closed' | 'local';
  expectedProcesses: number;
  windowMs: number;
}

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)([^@/]*)@/, (_, scheme: string, auth: string) => `${scheme}${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}

/** Checks the URL's form (scheme, host, port, db) without connecting. */
export function checkRedisUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OptionError('sharedQuota', redactUrl(url), 'a URL such as redis://host:6379 or rediss://user:pass@host:6380/0');
  }
  const fail = (what: string) => new OptionError('sharedQuota', redactUrl(url), what);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw fail('a redis:// or rediss:// URL');
  if (u.hostname === '') throw fail('a URL with a host (redis://host:6379)');
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw fail('a database number after the host (redis://host:6379/0)');
}

/** `windowMs`: the server's quota window (the run's `quotaWindowMs`). */
export function resolveSharedQuota(o: string | SharedQuotaOptions | undefined, env: Record<string, string | undefined>, windowMs: number = DEFAULTS.quotaWindowMs): ResolvedSharedQuota | undefined {
  const fromEnv = env.IMAGEBATCH_SHARED_QUOTA?.trim();
  const given = o ?? (fromEnv ? fromEnv : undefined);
  if (given === undefined) return undefined;
  const opts: SharedQuotaOptions = typeof given === 'string' ? { url: given } : given;
  if (typeof opts.url !== 'string') throw new OptionError('sharedQuota.url', opts.url, 'a redis:// URL');
  checkRedisUrl(opts.url);
  if (opts.group !== undefined && (typeof opts.group !== 'string' || !/^[\w.:/@-]{1,100}$/.test(opts.group))) {
    throw new OptionError('sharedQuota.group', opts.group, 'a name of 1–100 letters, digits and . : / @ - _');
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new OptionError('sharedQuota.timeoutMs', timeoutMs, 'a number > 0');
  const fallback = opts.fallback ?? 'closed';
  if (fallback !== 'closed' && fallback !== 'local') throw new OptionError('sharedQuota.fallback', fallback, '"closed" or "local"');
  const expectedProcesses = opts.expectedProcesses ?? 1;
  if (!Number.isInteger(expectedProcesses) || expectedProcesses < 1) throw new OptionError('sharedQuota.expectedProcesses', expectedProcesses, 'a whole number ≥ 1');
  return { url: opts.url, group: opts.group, timeoutMs, fallback, expectedProcesses, windowMs };
}
