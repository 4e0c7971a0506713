import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOrphanTemps, writeFileAtomic } from '../../src/storage/atomic.ts';

const ATOMIC_URL = new URL('../../src/storage/atomic.ts', import.meta.url).href;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ib-atomic-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const temps = async (d: string) => (await readdir(d)).filter((n) => n.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  test('writes bytes and strings, replaces an existing file, leaves no temp', async () => {
    const p = join(dir, 'a.bin');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await readFile(p))], [1, 2, 3]);
    await writeFileAtomic(p, 'hello', { fsync: false });
    assert.equal(await readFile(p, 'utf8'), 'hello');
    assert.deepEqual(await temps(dir), []);
  });

  test('a data source failing midway leaves the old file intact and no temp file', async () => {
    const p = join(dir, 'keep.txt');
    await writeFile(p, 'old content');
    async function* failing() {
      yield new Uint8Array(1024 * 1024).fill(1);
      yield new Uint8Array(1024 * 1024).fill(2);
      throw new Error('source broke');
    }
    await assert.rejects(writeFileAtomic(p, failing()), /source broke/);
    assert.equal(await readFile(p, 'utf8'), 'old content');
    assert.deepEqual(await temps(dir), []);

    const fresh = join(dir, 'never.txt');
    await assert.rejects(writeFileAtomic(fresh, failing()), /source broke/);
    await assert.rejects(readFile(fresh), { code: 'ENOENT' });
    assert.deepEqual(await temps(dir), []);
  });

  test('an aborted streamed write removes its temp', async () => {
    const p = join(dir, 'aborted.bin');
    const ac = new AbortController();
    async function* slow() {
      yield new Uint8Array(10);
      ac.abort(new Error('cancelled'));
      yield new Uint8Array(10);
    }
    await assert.rejects(writeFileAtomic(p, slow(), { signal: ac.signal }), /cancelled/);
    await assert.rejects(readFile(p), { code: 'ENOENT' });
    assert.deepEqual(await temps(dir), []);
  });

  test('SIGKILL of a process mid-write leaves no partial file under the final name; the orphan temp is then removed', async () => {
    const sub = await mkdtemp(join(dir, 'kill-'));
    const target = join(sub, 'big.png');
    await writeFile(target, 'previous');
    const code = `
      import { writeFileAtomic } from ${JSON.stringify(ATOMIC_URL)};
      async function* src() {
        const chunk = new Uint8Array(1 << 20).fill(7);
        for (let i = 0; ; i++) {
          yield chunk;
          if (i === 3) process.stdout.write('writing\\n');
          await new Promise((r) => setTimeout(r, 2));
        }
      }
      await writeFileAtomic(process.argv[1], src());
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, target], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('writing')) resolve();
      });
      child.on('exit', (c) => reject(new Error(`child exited early with ${c}`)));
    });
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(await readFile(target, 'utf8'), 'previous');
    const left = await temps(sub);
    assert.equal(left.length, 1);
    assert.match(left[0]!, /^\.big\.png\.[0-9a-f]{12}\.tmp$/);
    assert.equal(await removeOrphanTemps(sub), 1);
    assert.deepEqual((await readdir(sub)).sort(), ['big.png']);
  });
});

describe('removeOrphanTemps', () => {
  test('removes only our temp pattern, optionally only old ones; a missing folder is 0', async () => {
    const sub = await mkdtemp(join(dir, 'orph-'));
    const names = ['.a.png.0123456789ab.tmp', '.b.json.abcdefabcdef.tmp', 'keep.tmp', '.keep.tmp', 'image.png', '.x.png.0123.tmp'];
    for (const n of names) await writeFile(join(sub, n), 'x');
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(sub, '.a.png.0123456789ab.tmp'), old, old);
    assert.equal(await removeOrphanTemps(sub, { olderThanMs: 3600_000 }), 1);
    assert.equal(await removeOrphanTemps(sub), 1);
    assert.deepEqual((await readdir(sub)).sort(), ['.keep.tmp', '.x.png.0123.tmp', 'image.png', 'keep.tmp']);
    assert.equal(await removeOrphanTemps(join(dir, 'nope')), 0);
  });
});
