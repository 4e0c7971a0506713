// Shared by the batch integration tests: temp folders, what a folder holds, and an emulator per test.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';
import type { JobInput } from '../../src/types.ts';
import { abortableSleep } from '../../src/internal/clock.ts';
import type { Clock } from '../../src/internal/clock.ts';
import { manifestOf } from '../helpers/emu.ts';

export const KEY = 'batch-test-key';

export interface Env {
  emu: Emulator;
  dir: (name: string) => string;
  client: { apiKey: string; baseUrl: string; env: Record<string, string> };
  close(): Promise<void>;
}

/** An emulator on 127.0.0.1:0 with a small time scale, and a temp root removed on close. */
export async function setup(options: EmulatorOptions = {}): Promise<Env> {
  const emu = await startEmulator({ timeScale: 0.001, existingUser: true, ...options });
  const root = await mkdtemp(join(tmpdir(), 'imagebatch-batch-'));
  return {
    emu,
    dir: (name) => join(root, name),
    client: { apiKey: KEY, baseUrl: emu.url, env: {} },
    close: async () => {
      await emu.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Varied jobs (ratios, seeds) so equal files prove equal requests, not just equal prompts. */
export function jobs(n: number, prefix = 'a lighthouse'): JobInput[] {
  const ratios = [undefined, '16:9', '3:4'];
  return Array.from({ length: n }, (_, i) => ({
    prompt: `${prefix} ${i}`,
    ...(ratios[i % 3] ? { aspectRatio: ratios[i % 3] } : {}),
    ...(i % 4 === 0 ? { seed: i } : {}),
  }));
}

export { manifestOf as manifest };

/** The last line per key, asserting no key was written twice. */
export async function entriesByKey(dir: string): Promise<Map<string, ManifestEntry>> {
  const all = await manifestOf(dir);
  const byKey = new Map<string, ManifestEntry>();
  for (const e of all) {
    assert.ok(!byKey.has(e.key), `key ${e.key} written twice in ${dir}`);
    byKey.set(e.key, e);
  }
  return byKey;
}

/** Image files on disk (not our own bookkeeping files) → sha256. */
export async function images(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(dir)) {
    if (!/\.(png|jpg)$/.test(name)) continue;
    out.set(name, createHash('sha256').update(await readFile(join(dir, name))).digest('hex'));
  }
  return out;
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/**
 * A clock for the emulator that stands still until the test moves it, so a batch stays PENDING exactly as long
 * as the test wants, however slow the machine (sleeps are real: the emulator only sleeps for latency).
 */
export function heldClock(): { clock: Clock; release: () => void } {
  let now = 0;
  return { clock: { now: () => now, sleep: (ms, signal) => abortableSleep(ms, signal) }, release: () => void (now += 1e12) };
}
