import { describe, test, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestWriter, readManifest, type ManifestEntry } from '../../src/storage/manifest.ts';
import { StorageError } from '../../src/errors.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-manifest-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
const fresh = () => mkdtemp(join(root, `m${n++}-`));

function entry(key: string, over: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    v: 1,
    key,
    index: 0,
    prompt: `prompt ${key}`,
    status: 'succeeded',
    files: [{ path: `0000-${key}.png`, bytes: 3, sha256: 'ab'.repeat(32), mimeType: 'image/png' }],
    attempts: 1,
    model: 'gemini-2.5-flash-image',
    latencyMs: 10,
    finishedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

async function collect(dir: string) {
  const r = readManifest(dir);
  const out: ManifestEntry[] = [];
  for await (const e of r) out.push(e);
  return { keys: out.map((e) => e.key), entries: out, skipped: r.skipped, tornTail: r.tornTail };
}

describe('ManifestWriter', () => {
  test('appends one line per entry, round-trips through readManifest; a missing manifest reads as empty', async () => {
    const dir = await fresh();
    assert.deepEqual((await collect(dir)).keys, []);
    const w = await ManifestWriter.open(dir, { fsync: 'always' });
    await w.append(entry('a'));
    await w.append(entry('b', { status: 'failed', files: [], reason: 'blocked', blockReason: 'SAFETY', message: 'no' }));
    await w.close();
    const text = await readFile(join(dir, 'manifest.jsonl'), 'utf8');
    assert.equal(text.split('\n').length, 3);
    assert.ok(text.endsWith('\n'));
    const r = await collect(dir);
    assert.deepEqual(r.entries, [entry('a'), entry('b', { status: 'failed', files: [], reason: 'blocked', blockReason: 'SAFETY', message: 'no' })]);
    await assert.rejects(w.append(entry('c')), /closed/);
  });

  test('concurrent appends (batch fsync) never interleave and all land after flush', async () => {
    const dir = await fresh();
    const w = await ManifestWriter.open(dir, { fsync: 'batch' });
    const big = 'x'.repeat(200_000);
    await Promise.all(Array.from({ length: 120 }, (_, i) => w.append(entry(`k${i}`, { prompt: i % 10 === 0 ? big : `p${i}` }))));
    await w.flush();
    const r = await collect(dir);
    assert.equal(r.keys.length, 120);
    assert.deepEqual(r.keys, Array.from({ length: 120 }, (_, i) => `k${i}`));
    assert.equal(r.skipped, 0);
    await w.close();
  });

  test('lines appended while a write is in flight go out together, in order, in one write', async () => {
    const dir = await fresh();
    const real = await open(join(dir, 'manifest.jsonl'), 'a');
    const writes: number[] = [];
    const handle = {
      write: async (b: Buffer) => {
        writes.push(b.toString().split('\n').length - 1);
        return real.write(b);
      },
      sync: () => real.sync(),
      close: () => real.close(),
    } as unknown as FileHandle;
    const w = ManifestWriter.overHandle(join(dir, 'manifest.jsonl'), handle, { fsync: 'batch' });
    const first = w.append(entry('k0'));
    const rest = Array.from({ length: 16 }, (_, i) => w.append(entry(`k${i + 1}`)));
    await Promise.all([first, ...rest]);
    await w.close();
    assert.deepEqual(writes, [17], 'seventeen appends made together: one write of seventeen lines');
    assert.deepEqual((await collect(dir)).keys, Array.from({ length: 17 }, (_, i) => `k${i}`));
  });

  test('beforeSync runs before every manifest fsync (the folder fsync of the images the lines name)', async () => {
    const dir = await fresh();
    const real = await open(join(dir, 'manifest.jsonl'), 'a');
    const log: string[] = [];
    const handle = {
      write: async (b: Buffer) => {
        log.push('write');
        return real.write(b);
      },
      sync: async () => {
        log.push('fsync');
        await real.sync();
      },
      close: () => real.close(),
    } as unknown as FileHandle;
    const beforeSync = async () => {
      log.push('folder');
    };
    const always = ManifestWriter.overHandle(join(dir, 'manifest.jsonl'), handle, { fsync: 'always', beforeSync });
    await always.append(entry('a'));
    await always.append(entry('b'));
    assert.deepEqual(log, ['write', 'folder', 'fsync', 'write', 'folder', 'fsync']);
    await always.flush();
    assert.equal(log.length, 6, 'nothing unsynced: no folder fsync either');
    await always.close();
  });

  test("'batch': the 50th line's fsync runs beside the writes; appends do not wait for it, flush does, a failed one fails the next append", async () => {
    const dir = await fresh();
    const real = await open(join(dir, 'manifest.jsonl'), 'a');
    const log: string[] = [];
    let release!: () => void;
    let fail = false;
    const handle = {
      write: async (b: Buffer) => {
        log.push(`write ${b.toString().split('\n').length - 1}`);
        return real.write(b);
      },
      sync: async () => {
        log.push('fsync start');
        await new Promise<void>((r) => (release = r));
        log.push('fsync end');
        if (fail) throw new Error('EIO');
        await real.sync();
      },
      close: () => real.close(),
    } as unknown as FileHandle;
    // The 100-ms fsync timer never fires here: only the 50-line rule and flush start an fsync.
    mock.timers.enable({ apis: ['setTimeout'] });
    const w = ManifestWriter.overHandle(join(dir, 'manifest.jsonl'), handle, { fsync: 'batch' });
    // 50 lines written one at a time: the 50th starts an fsync, which is held.
    for (let i = 0; i < 50; i++) await w.append(entry(`k${i}`));
    assert.equal(log.at(-1), 'fsync start', 'the 50th line started an fsync');
    // While it is held, more appends are written and resolve.
    await w.append(entry('k50'));
    await w.append(entry('k51'));
    assert.deepEqual(log.slice(-2), ['write 1', 'write 1'], 'lines written while the fsync runs');
    let flushed = false;
    const flushing = w.flush().then(() => (flushed = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(flushed, false, 'flush waits for the fsync in progress');
    release();
    // The running fsync ends, then the lines written during it get their own (held again until released).
    await new Promise((r) => setImmediate(r));
    while (log.filter((l) => l === 'fsync start').length < 2) await new Promise((r) => setImmediate(r));
    release();
    await flushing;
    assert.equal(log.filter((l) => l === 'fsync end').length, 2, 'the lines written during the first fsync got a second one');
    assert.deepEqual((await collect(dir)).keys, Array.from({ length: 52 }, (_, i) => `k${i}`));
    // A failed fsync beside the writes fails the next append.
    fail = true;
    for (let i = 52; i < 102; i++) await w.append(entry(`k${i}`));
    release();
    await new Promise((r) => setImmediate(r));
    await assert.rejects(w.append(entry('late')), (e: unknown) => e instanceof StorageError && /cannot fsync the manifest: EIO/.test(e.message));
    mock.timers.reset();
    await real.close();
  });

  test('reopening appends after existing lines', async () => {
    const dir = await fresh();
    for (const k of ['a', 'b']) {
      const w = await ManifestWriter.open(dir);
      await w.append(entry(k));
      await w.close();
    }
    assert.deepEqual((await collect(dir)).keys, ['a', 'b']);
  });
});

describe('torn and damaged manifests', () => {
  test('a torn last line is ignored by the reader, and the writer cuts it before appending', async () => {
    const dir = await fresh();
    const good = `${JSON.stringify(entry('a'))}\n`;
    const torn = JSON.stringify(entry('b')).slice(0, 40);
    await writeFile(join(dir, 'manifest.jsonl'), good + torn);
    const r = await collect(dir);
    assert.deepEqual([r.keys, r.skipped, r.tornTail], [['a'], 0, true]);
    const w = await ManifestWriter.open(dir);
    await w.append(entry('c'));
    await w.close();
    assert.equal(await readFile(join(dir, 'manifest.jsonl'), 'utf8'), `${good}${JSON.stringify(entry('c'))}\n`);
    const r2 = await collect(dir);
    assert.deepEqual([r2.keys, r2.skipped, r2.tornTail], [['a', 'c'], 0, false]);
  });

  test('a complete last entry without its newline is kept and terminated, not glued to the next', async () => {
    const dir = await fresh();
    await writeFile(join(dir, 'manifest.jsonl'), JSON.stringify(entry('a')));
    assert.deepEqual((await collect(dir)).keys, ['a']);
    const w = await ManifestWriter.open(dir);
    await w.append(entry('b'));
    await w.close();
    assert.deepEqual((await collect(dir)).keys, ['a', 'b']);
  });

  test('a torn tail longer than the read-back chunk, and a file that is only a torn line', async () => {
    const dir = await fresh();
    const good = `${JSON.stringify(entry('a'))}\n`;
    await writeFile(join(dir, 'manifest.jsonl'), good + JSON.stringify(entry('b', { prompt: 'y'.repeat(300_000) })).slice(0, 250_000));
    await (await ManifestWriter.open(dir)).close();
    assert.equal(await readFile(join(dir, 'manifest.jsonl'), 'utf8'), good);
    const dir2 = await fresh();
    await writeFile(join(dir2, 'manifest.jsonl'), '{"v":1,"key":');
    await (await ManifestWriter.open(dir2)).close();
    assert.equal(await readFile(join(dir2, 'manifest.jsonl'), 'utf8'), '');
  });

  test('bad lines in the middle are skipped and counted; blank lines ignored', async () => {
    const dir = await fresh();
    const l = (k: string) => `${JSON.stringify(entry(k))}\n`;
    await writeFile(join(dir, 'manifest.jsonl'), l('a') + 'garbage\n' + '\n' + '{"v":2,"key":"x"}\n' + l('b'));
    await appendFile(join(dir, 'manifest.jsonl'), Buffer.from([0xff, 0xfe, 0x0a]));
    await appendFile(join(dir, 'manifest.jsonl'), l('c'));
    const r = await collect(dir);
    assert.deepEqual([r.keys, r.skipped, r.tornTail], [['a', 'b', 'c'], 3, false]);
  });
});
