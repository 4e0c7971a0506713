// Several processes or machines sharing one project quota through Redis (--shared-quota). Nothing here is
// loaded unless a shared quota is asked for; ioredis itself is imported by connect.ts on first use.
import { connectRedis } from './connect.ts';
import { defaultGroup } from './keys.ts';
import { SharedQuota } from './shared.ts';
import type { SharedQuotaConfig } from './shared.ts';
import { GeminiClient } from '../gemini/client.ts';
import { resolveSharedQuota } from './options.ts';
import type { SharedQuotaOptions } from './options.ts';
import { readStatus } from './status.ts';
import type { QuotaStatus } from './status.ts';

export type { ResolvedSharedQuota, SharedQuotaOptions } from './options.ts';
export { SharedQuota } from './shared.ts';

/** Connects (an OptionError if the URL, the login or the server is wrong: nothing sent yet) and builds the coordinator. */
export async function openSharedQuota<J>(
  o: Omit<SharedQuotaConfig<J>, 'redis' | 'group'> & { baseUrl: string; keyHash: string },
): Promise<SharedQuota<J>> {
  const redis = await connectRedis(o.shared.url);
  return new SharedQuota<J>({ ...o, redis, group: o.shared.group ?? defaultGroup(o.baseUrl, o.keyHash) });
}
export { resolveSharedQuota };
export type { ModelQuotaStatus, QuotaStatus } from './status.ts';

/**
 * The live state of a quota group (`imagebatch quota status`). The group is `options.group`, else the one runs
 * with this endpoint and key derive (apiKey / baseUrl, or the environment as generateImages reads it).
 */
export async function sharedQuotaStatus(
  options: string | SharedQuotaOptions,
  client: { apiKey?: string; baseUrl?: string; env?: Record<string, string | undefined> } = {},
): Promise<QuotaStatus> {
  const shared = resolveSharedQuota(options, {})!;
  let group = shared.group;
  if (group === undefined) {
    // Throws AuthError without a key: the default group is the key's.
    const c = new GeminiClient({ apiKey: client.apiKey, baseUrl: client.baseUrl, env: client.env });
    group = defaultGroup(c.baseUrl, c.keyHash);
  }
  const redis = await connectRedis(shared.url);
  try {
    return await readStatus(redis.client, group, shared.windowMs);
  } finally {
    await redis.close();
  }
}
