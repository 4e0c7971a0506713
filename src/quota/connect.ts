// The Redis connection of a shared quota. ioredis is imported here, lazily: a run without --shared-quota never
// loads it. Fail fast on every command (no offline queue, a command timeout): a limiter that queues commands
// while Redis is away would hand out slots after the fact; the caller decides what an error means.
import type { Redis } from 'ioredis';
import { OptionError } from '../errors.ts';
import { ACQUIRE, RELEASE } from './lua.ts';
import { redactUrl } from './options.ts';

export interface QuotaRedis {
  /** ['go' | 'book' | 'wait' | 'full' | 'stop', detail] (see lua.ts). */
  acquire(keys: readonly string[], args: readonly (string | number)[]): Promise<[string, string]>;
  release(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Scripts run (round trips) so far. */
  readonly roundTrips: number;
  readonly client: Redis;
  close(): Promise<void>;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

export interface ConnectOptions {
  /** Deadline of one command (a script call). @default 2000 */
  commandTimeoutMs?: number;
  /** Deadline of the first connection; also the reconnect backoff's ceiling ×2. @default 5000 */
  connectTimeoutMs?: number;
}

/**
 * Connects and checks the server answers (authentication included). A malformed URL, a refused login or a
 * server that cannot be reached in time is an OptionError (exit 2): nothing has been sent yet.
 */
export async function connectRedis(url: string, o: ConnectOptions = {}): Promise<QuotaRedis> {
  const { Redis: RedisClass } = await import('ioredis');
  const client = new RedisClass(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.commandTimeoutMs ?? 2000,
    connectTimeout: o.connectTimeoutMs ?? 5000,
    protocol: 2,
    // Reconnect for ever with a capped backoff; the shared quota decides when the outage is too long.
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
  });
  // Without a listener ioredis stays silent; with one, errors are ours to judge (commands fail on their own).
  let lastError: unknown;
  client.on('error', (e: unknown) => (lastError = e));
  client.defineCommand('ibAcquire', { numberOfKeys: 10, lua: ACQUIRE });
  client.defineCommand('ibRelease', { numberOfKeys: 9, lua: RELEASE });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    // A refused login surfaces as an 'error' event; the command only sees the closed connection.
    const msgOf = (x: unknown) => (x instanceof Error ? x.message : String(x));
    const seen = [msgOf(e), lastError === undefined ? '' : msgOf(lastError)];
    const msg = seen.find((m) => /NOAUTH|WRONGPASS|AUTH/i.test(m)) ?? (seen[1] || seen[0]!);
    const auth = /NOAUTH|WRONGPASS|AUTH/i.test(msg);
    throw new OptionError('sharedQuota', redactUrl(url), auth ? `credentials Redis accepts (${msg})` : `a Redis server that answers (${msg})`);
  }
  const scripts = client as unknown as Record<'ibAcquire' | 'ibRelease', ScriptFn>;
  let roundTrips = 0;
  return {
    client,
    get roundTrips() {
      return roundTrips;
    },
    async acquire(keys, args) {
      roundTrips++;
      const r = (await scripts.ibAcquire(...keys, ...args)) as [string, string];
      return [String(r[0]), String(r[1])];
    },
    release(keys, args) {
      roundTrips++;
      return scripts.ibRelease(...keys, ...args);
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
