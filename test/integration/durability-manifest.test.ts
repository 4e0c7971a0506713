// A manifest that cannot be written (disk full) must fail loudly and stay failed, never go on after a torn line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../../src/errors.ts';
import { ManifestWriter, MANIFEST_FILE } from '../../src/storage/manifest.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';

// /dev/full answers every write with ENOSPC: a disk that is full, without filling one. (It reads as endless zeros,
// so only the writer is tested this way, not a whole run that first reads the manifest back.)
const skip = existsSync('/dev/full') ? false : 'needs /dev/full (Linux)';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-dman-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fullDiskFolder(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  await symlink('/dev/full', join(dir, MANIFEST_FILE));
  return dir;
}

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
  const w = await ManifestWriter.open(await fullDiskFolder('w'), { fsync: 'always' });
  const first = await w.append(entry(0)).then(() => undefined, (e: unknown) => e);
  assert.ok(first instanceof StorageError, String(first));
  assert.match(first.message, /cannot append to the manifest/);
  assert.equal(await w.append(entry(1)).then(() => undefined, (e: unknown) => e), first);
  await assert.rejects(w.close());
});
