// Where a quota group lives in Redis. The default group is the endpoint plus a hash of the API key: processes using
// one key share one group, and the key itself never reaches Redis.
import { sha256Hex } from '../internal/hash.ts';

/** The default group name for an endpoint and a key's fingerprint (GeminiClient.keyHash). */
export function defaultGroup(baseUrl: string, keyHash: string): string {
  const host = (() => {
    try {
      return new URL(baseUrl).host;
    } catch {
      return baseUrl;
    }
  })();
  return `${host}/key-${sha256Hex(`imagebatch quota group\n${keyHash}`).slice(0, 16)}`;
}

const PREFIX = 'imagebatch:quota:';
export const PER_MODEL = ['tat:r', 'tat:i', 'tat:l', 'pause', 'leases', 'log', 'aimd', 'stop', 'r429'] as const;

/** Every key of one model in a group, in the order the scripts take them (lua.ts). */
export function modelKeys(group: string, model: string): string[] {
  return PER_MODEL.map((k) => `${PREFIX}{${group}}:${model}:${k}`);
}

/** The set of models a group has seen (for `quota status`). */
export function modelsKey(group: string): string {
  return `${PREFIX}{${group}}:models`;
}
