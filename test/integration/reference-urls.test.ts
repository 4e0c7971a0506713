// Reference images given as URLs, against a local image host: a size cap enforced while streaming, the per-attempt
// deadline, transient host failures retried, one download per run, content-hash keys, and content checks.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { PNG } from 'pngjs';
import { generateImages } from '../../src/run.ts';
import { readJobs } from '../../src/input/index.ts';
import { normaliseJobs } from '../../src/core/job.ts';
import { RemoteRefs } from '../../src/input/remote-ref.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import type { JobInput, Result } from '../../src/types.ts';
import { collect, emulator, tempDir } from '../helpers/emu.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const KEY = 'test-key-refs';
const png = (shade: number) => {
  const p = new PNG({ width: 2, height: 2 });
  p.data.fill(shade);
  return PNG.sync.write(p);
};

let host: Server;
let base = '';
let emu: Emulator;
const hits = new Map<string, number>();
let bigSent = 0;
let changing = png(10);

before(async () => {
  emu = await emulator({});
  host = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const n = hits.get(path)!;
    if (path === '/ok.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(png(200));
    if (path === '/changing.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(changing);
    if (path === '/flaky.png') return n <= 2 ? res.writeHead(503).end('busy') : res.writeHead(200, { 'content-type': 'image/png' }).end(png(90));
    if (path === '/reset.png') return n <= 2 ? req.socket.destroy() : res.writeHead(200, { 'content-type': 'image/png' }).end(png(91));
    if (path === '/hang.png') return; // never answers
    if (path === '/text.png') return res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    if (path === '/lies.png') return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('not an image at all');
    if (path === '/gone.png') return res.writeHead(404).end();
    if (path === '/big.png') {
      // 50 MB, chunked (no length announced): only reading can find it too big.
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      png(1).copy(chunk);
      const pump = () => {
        while (bigSent < 50 * 1024 * 1024) {
          bigSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      return pump();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  const addr = host.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(async () => {
  host.closeAllConnections();
  await new Promise((r) => host.close(r));
  await emu.close();
});

const job = (url: string, prompt = `edit ${url}`): Exclude<JobInput, string> => ({ prompt, images: [{ path: `${base}${url}` }] });
const run = (jobs: JobInput[], extra: Parameters<typeof generateImages>[1] = {}) =>
  collect(generateImages(jobs, { apiKey: KEY, baseUrl: emu.url, random: () => 0, maxAttempts: 3, ...extra }));
const messageOf = (r: Result) => (r.status === 'failed' ? r.message : '');
const only = (rs: Result[]) => {
  assert.equal(rs.length, 1);
  return rs[0]!;
};

describe('reference images from URLs', () => {
  test('a good URL is used; three jobs naming it download it once', async () => {
    const rs = await run([job('/ok.png', 'a'), job('/ok.png', 'b'), job('/ok.png', 'c')]);
    assert.deepEqual(rs.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded']);
    assert.equal(hits.get('/ok.png'), 1);
  });

  test('the size cap stops reading: the job fails without retries and the host did not send the whole file', async () => {
    const r = only(await run([job('/big.png')], { maxReferenceBytes: 256 * 1024 }));
    assert.equal(r.status, 'failed');
    assert.equal(r.reason, 'invalid_request');
    assert.match(messageOf(r), /over the 262144-byte limit \(--max-reference-bytes\); stopped reading/);
    assert.ok(bigSent < 20 * 1024 * 1024, `host sent ${bigSent} bytes of 50 MB`);
  });

  test('the per-attempt deadline applies to the download; a timeout is transient (retried, then reason timeout)', async () => {
    const started = Date.now();
    const r = only(await run([job('/hang.png')], { timeoutMs: 200, maxAttempts: 2 }));
    assert.equal(r.status, 'failed');
    assert.equal(r.reason, 'timeout');
    assert.equal(r.attempts, 2);
    assert.ok(Date.now() - started < 5000);
  });

  test('a 503 or a reset from the image host is retried and the job succeeds', async () => {
    for (const url of ['/flaky.png', '/reset.png']) {
      const r = only(await run([job(url)]));
      assert.equal(r.status, 'succeeded', `${url}: ${messageOf(r)}`);
      assert.equal(r.attempts, 2, url);
    }
  });

  test('not an image (by content type or by its bytes) or a 404: one attempt, invalid_request', async () => {
    for (const [url, message] of [
      ['/text.png', /served as text\/plain, not an image/],
      ['/lies.png', /is not a PNG, JPEG, WebP or HEIC image/],
      ['/gone.png', /HTTP 404/],
    ] as const) {
      const r = only(await run([job(url)]));
      assert.equal(r.status, 'failed', url);
      assert.equal(r.reason, 'invalid_request', url);
      assert.equal(r.attempts, 1, url);
      assert.match(messageOf(r), message);
    }
  });

  test('the job key follows the content behind the URL (prompt files too), not the URL', async () => {
    const { dir, cleanup } = await tempDir('ib-refs-');
    try {
      const file = join(dir, 'in.jsonl');
      await writeFile(file, `${JSON.stringify({ prompt: 'edit it', images: [`${base}/changing.png`] })}\n`);
      const keyNow = async () => {
        const [j] = await collect(normaliseJobs(readJobs(file, { model: 'gemini-2.5-flash-image' }), 'gemini-2.5-flash-image', new RemoteRefs()));
        return j!;
      };
      const a = await keyNow();
      const again = await keyNow();
      changing = png(250);
      const b = await keyNow();
      assert.equal(a.key, again.key);
      assert.notEqual(a.key, b.key);
      assert.match(a.images?.[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
      const userKeyed = await collect(normaliseJobs([{ ...job('/changing.png'), key: 'mine' }], 'gemini-2.5-flash-image', new RemoteRefs()));
      assert.equal(userKeyed[0]?.key, 'mine');
    } finally {
      await cleanup();
    }
  });
});
