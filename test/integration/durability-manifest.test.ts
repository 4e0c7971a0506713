// A manifest that cannot be written (disk full) must fail loudly and stay failed, never go on after a torn line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { StorageError } from '../../src/errors.ts';
import { ManifestWriter } from '../../src/storage/manifest.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';

// /dev/full answers every write with ENOSPC: a disk that is full, without filling one. (It reads as endless zeros,
// so only the writer is tested this way, not a whole run that first reads the manifest back; and the manifest can
// no longer be a link to it, since a symbolic-link manifest is refused.)
const skip = existsSync('/dev/full') ? false : 'needs /dev/full (Linux)';

const entry = (i: number): ManifestEntry => ({
  v: 1,
  key: `k${i}`,
  index: i,
  prompt: `p${i}`,
  status: 'failed',
  reason: 'server',
  message: 'x',
  files: [],
  attempts: 1,
  model: 'm',
  latencyMs: 1,
  finishedAt: new Date(0).toISOString(),
});

test('a failed append is a StorageError, and every later append fails with it', { skip }, async () => {
  const w = ManifestWriter.overHandle('/dev/full', await open('/dev/full', 'a'), { fsync: 'always' });
  const first = await w.append(entry(0)).then(() => undefined, (e: unknown) => e);
  assert.ok(first instanceof StorageError, String(first));
  assert.match(first.message, /cannot append to the manifest/);
  assert.equal(await w.append(entry(1)).then(() => undefined, (e: unknown) => e), first);
  await assert.rejects(w.close());
});
