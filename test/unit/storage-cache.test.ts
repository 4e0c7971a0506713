import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../../src/errors.ts';
import { ImageCache } from '../../src/storage/cache.ts';
import { OutputFolder } from '../../src/storage/output.ts';
import { filesUnder } from '../helpers/emu.ts';

const CACHE_URL = new URL('../../src/storage/cache.ts', import.meta.url).href;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ib-cache-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = () => mkdtemp(join(root, `c${n++}-`));
const sha = (d: Uint8Array | string) => createHash('sha256').update(d).digest('hex');
/** The endpoint namespace of these tests' keys. */
const E = 'https://generativelanguage.googleapis.com';
const png = (s: string) => ({ mimeType: 'image/png', data: Buffer.from(s) });

/** Every file under dir, as absolute paths. */
const walk = async (dir: string): Promise<string[]> => (await filesUnder(dir)).map((f) => join(dir, f));

describe('ImageCache', () => {
  test('keyFor: stable, 32 hex, independent of key order, sensitive to endpoint/model/request/variant; variant 0 = none', () => {
    const req = { contents: [{ parts: [{ text: 'a fox' }] }], generationConfig: { imageConfig: { aspectRatio: '1:1' } } };
    const k = ImageCache.keyFor(E, 'm', req);
    assert.match(k, /^[0-9a-f]{32}$/);
    assert.equal(ImageCache.keyFor(E, 'm', { generationConfig: req.generationConfig, contents: req.contents }), k);
    assert.equal(ImageCache.keyFor(E, 'm', req, 0), k);
    const others = [ImageCache.keyFor('http://127.0.0.1:8080', 'm', req), ImageCache.keyFor(E, 'm2', req), ImageCache.keyFor(E, 'm', req, 1), ImageCache.keyFor(E, 'm', { ...req, contents: [{ parts: [{ text: 'a cat' }] }] })];
    assert.equal(new Set([k, ...others]).size, 5);
  });

  test('put then get; the layout is blobs/<sha[0..2]>/<sha> and entries/<key[0..2]>/<key>.json', async () => {
    const c = await ImageCache.open(await fresh());
    const key = ImageCache.keyFor(E, 'm', { p: 1 });
    assert.equal(await c.get(key), undefined);
    const usage = { promptTokens: 1, candidatesTokens: 1290, thoughtsTokens: 0, imageTokens: 1290, totalTokens: 1291 };
    await c.put(key, { images: [png('one'), { mimeType: 'image/jpeg', data: Buffer.from('two!') }], text: ['hi'], usage, modelVersion: 'v1' });
    assert.deepEqual(await c.get(key), {
      images: [
        { sha256: sha('one'), mimeType: 'image/png', bytes: 3 },
        { sha256: sha('two!'), mimeType: 'image/jpeg', bytes: 4 },
      ],
      text: ['hi'],
      usage,
      modelVersion: 'v1',
    });
    assert.equal(await readFile(join(c.dir, 'blobs', sha('one').slice(0, 2), sha('one')), 'utf8'), 'one');
    assert.ok((await stat(join(c.dir, 'entries', key.slice(0, 2), `${key}.json`))).isFile());
    assert.deepEqual(Buffer.from(await c.read(sha('two!'))).toString(), 'two!');
    // Same image under a second key: one blob.
    await c.put(ImageCache.keyFor(E, 'm', { p: 2 }), { images: [png('one')], text: [] });
    assert.equal((await walk(join(c.dir, 'blobs'))).length, 2);
  });

  test('get is undefined when a blob is missing or the wrong size, or the entry is damaged', async () => {
    const c = await ImageCache.open(await fresh());
    const [k1, k2, k3] = ['k1', 'k2', 'k3'].map((s) => ImageCache.keyFor(E, 'm', s)) as [string, string, string];
    await c.put(k1, { images: [png('aaa')], text: [] });
    await c.put(k2, { images: [png('bbb')], text: [] });
    await c.put(k3, { images: [png('ccc')], text: [] });
    await rm(c.blobPath(sha('aaa')));
    await truncate(c.blobPath(sha('bbb')), 1).catch(async () => {
      await rm(c.blobPath(sha('bbb')), { force: true });
      await writeFile(c.blobPath(sha('bbb')), 'b');
    });
    await writeFile(c.entryPath(k3), '{"v":1,"images":[{"sha256":');
    assert.deepEqual([await c.get(k1), await c.get(k2), await c.get(k3)], [undefined, undefined, undefined]);
  });

  test('materialize: the blob appears at dest atomically (replacing an older file); a missing blob is a StorageError', async () => {
    const c = await ImageCache.open(await fresh());
    await c.put(ImageCache.keyFor(E, 'm', 'x'), { images: [png('pixels')], text: [] });
    const out = await fresh();
    const dest = join(out, '0000-x.png');
    await writeFile(dest, 'older');
    await c.materialize(sha('pixels'), dest);
    assert.equal(await readFile(dest, 'utf8'), 'pixels');
    assert.deepEqual((await readdir(out)).filter((x) => x.endsWith('.tmp')), []);
    await assert.rejects(c.materialize('0'.repeat(64), join(out, 'y.png')), StorageError);
    await assert.rejects(c.materialize('../../etc', join(out, 'y.png')), /sha256/);
    assert.deepEqual((await readdir(out)).sort(), ['0000-x.png']);
  });

  test('OutputFolder.save of a cached result materialises from the cache', async () => {
    const c = await ImageCache.open(await fresh());
    await c.put(ImageCache.keyFor(E, 'm', 'y'), { images: [png('cached')], text: [] });
    const dir = await fresh();
    const folder = await OutputFolder.open(dir);
    const e = await folder.save(
      { status: 'succeeded', job: { key: 'k', index: 0, prompt: 'p' }, model: 'm', attempts: 0, latencyMs: 0, from: 'cache', text: [], images: [{ mimeType: 'image/png', data: Buffer.from('cached'), bytes: 6, sha256: sha('cached') }] },
      { cache: c },
    );
    await folder.close();
    assert.equal(e.cached, true);
    const p = join(dir, '0000-p.png');
    assert.equal(await readFile(p, 'utf8'), 'cached');
    assert.equal((await stat(p)).ino, (await stat(c.blobPath(sha('cached')))).ino, 'hard link on the same file system');
  });

  test('keys and shas are validated before touching the disk', async () => {
    const c = await ImageCache.open(await fresh());
    await assert.rejects(c.get('../../../etc/passwd'), /key/);
    await assert.rejects(c.put('a/b', { images: [], text: [] }), /key/);
  });

  test('default folder: $IMAGEBATCH_CACHE_DIR; open removes temps older than an hour only', async () => {
    const dir = await fresh();
    await mkdir(join(dir, 'blobs', 'ab'), { recursive: true });
    const oldTemp = join(dir, 'blobs', 'ab', '.abc.0123456789ab.tmp');
    const newTemp = join(dir, 'blobs', 'ab', '.abd.0123456789ab.tmp');
    await writeFile(oldTemp, 'x');
    await writeFile(newTemp, 'x');
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(oldTemp, old, old);
    const saved = process.env.IMAGEBATCH_CACHE_DIR;
    process.env.IMAGEBATCH_CACHE_DIR = dir;
    try {
      const c = await ImageCache.open();
      assert.equal(c.dir, dir);
    } finally {
      if (saved === undefined) delete process.env.IMAGEBATCH_CACHE_DIR;
      else process.env.IMAGEBATCH_CACHE_DIR = saved;
    }
    assert.deepEqual(await readdir(join(dir, 'blobs', 'ab')), ['.abd.0123456789ab.tmp']);
  });

  test('two processes putting into one cache at once leave it consistent', async () => {
    const dir = await fresh();
    const code = `
      import { ImageCache } from ${JSON.stringify(CACHE_URL)};
      const [dir, who] = process.argv.slice(1);
      const E = ${JSON.stringify(E)};
      const c = await ImageCache.open(dir);
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 20 }, async (_, i) => {
          const shared = ImageCache.keyFor(E, 'm', { i });
          await c.put(shared, { images: [{ mimeType: 'image/png', data: Buffer.alloc(64 * 1024 + i, i) }], text: ['shared ' + i] });
          const own = ImageCache.keyFor(E, 'm', { i, who });
          await c.put(own, { images: [{ mimeType: 'image/png', data: Buffer.alloc(1000 + i, i) }, { mimeType: 'image/png', data: Buffer.from(who + i) }], text: [who] });
        }));
      }
    `;
    const run = (who: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, dir, who], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('exit', (c) => resolve(c));
      });
    assert.deepEqual(await Promise.all([run('A'), run('B')]), [0, 0]);

    const c = await ImageCache.open(dir);
    for (let i = 0; i < 20; i++) {
      const shared = await c.get(ImageCache.keyFor(E, 'm', { i }));
      assert.deepEqual(shared?.text, [`shared ${i}`]);
      assert.equal(shared?.images[0]?.bytes, 64 * 1024 + i);
      for (const who of ['A', 'B']) {
        const own = await c.get(ImageCache.keyFor(E, 'm', { i, who }));
        assert.deepEqual(own?.text, [who]);
        assert.equal(Buffer.from(await c.read(own!.images[1]!.sha256)).toString(), `${who}${i}`);
      }
    }
    const files = await walk(dir);
    assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), []);
    const blobs = files.filter((f) => f.includes(`${join(dir, 'blobs')}`));
    for (const b of blobs) assert.equal(sha(await readFile(b)), b.split('/').pop());
    assert.equal(files.filter((f) => f.endsWith('.json')).length, 60);
  });
});
