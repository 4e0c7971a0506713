// Several processes or machines sharing one project quota through Redis (--shared-quota). Nothing here is
// loaded unless a shared quota is asked for; ioredis itself is imported by connect.ts on first use.
import { connectRedis } from './connect.ts';
import { defaultGroup } from './keys.ts';
import { SharedQuota } from './shared.ts';
import type { SharedQuotaConfig } from './shared.ts';

export type { ResolvedSharedQuota, SharedQuotaOptions } from './options.ts';
export { SharedQuota } from './shared.ts';

/** Connects (an OptionError if the URL, the login or the server is wrong: nothing sent yet) and builds the coordinator. */
export async function openSharedQuota<J>(
  o: Omit<SharedQuotaConfig<J>, 'redis' | 'group'> & { baseUrl: string; keyHash: string },
): Promise<SharedQuota<J>> {
  const redis = await connectRedis(o.shared.url);
  return new SharedQuota<J>({ ...o, redis, group: o.shared.group ?? defaultGroup(o.baseUrl, o.keyHash) });
}
