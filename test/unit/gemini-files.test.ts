import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GeminiClient } from '../../src/gemini/client.ts';
import { deleteFile, downloadFile, getFile, listFiles, uploadFile } from '../../src/gemini/files.ts';
import { ApiError } from '../../src/errors.ts';

const KEY = 'ib-files-KEY-0042';

interface Chunk {
  url: string;
  command: string;
  offset: number;
  length: number;
  key: string | undefined;
}

/** A stub of the resumable-upload protocol that records what it was sent and checks offsets. */
async function uploadServer(opts: { badStatusAt?: number } = {}) {
  const start: { headers: http.IncomingHttpHeaders; body: string; url: string }[] = [];
  const chunks: Chunk[] = [];
  const received: Buffer[] = [];
  let expected = 0;
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (req.headers['x-goog-upload-command'] === 'start') {
        start.push({ headers: req.headers, body: body.toString(), url: req.url ?? '' });
        expected = Number(req.headers['x-goog-upload-header-content-length']);
        // Google answers with its own host; the client must keep only path and query.
        res.writeHead(200, {
          'x-goog-upload-url': 'https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=abc123&upload_protocol=resumable',
          'x-goog-upload-status': 'active',
        });
        return res.end();
      }
      const command = String(req.headers['x-goog-upload-command']);
      const offset = Number(req.headers['x-goog-upload-offset']);
      chunks.push({ url: req.url ?? '', command, offset, length: body.length, key: req.headers['x-goog-api-key'] as string | undefined });
      const have = received.reduce((n, b) => n + b.length, 0);
      if (offset !== have) return res.writeHead(400).end('offset mismatch');
      received.push(body);
      const total = have + body.length;
      if (opts.badStatusAt === chunks.length) return res.writeHead(200, { 'x-goog-upload-status': 'cancelled' }).end();
      if (command === 'upload, finalize') {
        if (total !== expected) return res.writeHead(400).end('size mismatch');
        res.writeHead(200, { 'x-goog-upload-status': 'final', 'content-type': 'application/json' });
        return res.end(JSON.stringify({ file: { name: 'files/abc123', sizeBytes: String(total), mimeType: 'jsonl', state: 'ACTIVE' } }));
      }
      res.writeHead(200, { 'x-goog-upload-status': 'active' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { url, start, chunks, received: () => Buffer.concat(received), close };
}

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256));

describe('uploadFile (resumable protocol)', { timeout: 10_000 }, () => {
  test('bytes in memory: start headers, then 3 chunks with offsets and upload / upload, finalize', async () => {
    const s = await uploadServer();
    try {
      const data = bytes(250);
      const file = await uploadFile(new GeminiClient({ apiKey: KEY, baseUrl: s.url, env: {} }), { data }, { mimeType: 'jsonl', displayName: 'in', chunkBytes: 100 });
      assert.equal(file.name, 'files/abc123');
      assert.equal(s.start.length, 1);
      const h = s.start[0]!.headers;
      assert.equal(s.start[0]!.url, '/upload/v1beta/files');
      assert.equal(h['x-goog-upload-protocol'], 'resumable');
      assert.equal(h['x-goog-upload-header-content-length'], '250');
      assert.equal(h['x-goog-upload-header-content-type'], 'jsonl');
      assert.equal(h['x-goog-api-key'], KEY);
      assert.deepEqual(JSON.parse(s.start[0]!.body), { file: { mimeType: 'jsonl', sizeBytes: '250', displayName: 'in' } });
      assert.deepEqual(
        s.chunks.map((c) => [c.url, c.command, c.offset, c.length]),
        [
          ['/upload/v1beta/files?upload_id=abc123&upload_protocol=resumable', 'upload', 0, 100],
          ['/upload/v1beta/files?upload_id=abc123&upload_protocol=resumable', 'upload', 100, 100],
          ['/upload/v1beta/files?upload_id=abc123&upload_protocol=resumable', 'upload, finalize', 200, 50],
        ],
      );
      assert.deepEqual(s.received(), data);
    } finally {
      await s.close();
    }
  });

  test('from a path: streamed chunk by chunk, bytes identical, file name header sent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ib-gemini-files-'));
    const s = await uploadServer();
    try {
      const data = bytes(300);
      const path = join(dir, 'batch-input.jsonl');
      await writeFile(path, data);
      await uploadFile(new GeminiClient({ apiKey: KEY, baseUrl: s.url, env: {} }), { path }, { mimeType: 'jsonl', chunkBytes: 128 });
      assert.deepEqual(s.chunks.map((c) => c.length), [128, 128, 44]);
      assert.deepEqual(s.received(), data);
      assert.equal(s.start[0]!.headers['x-goog-upload-file-name'], 'batch-input.jsonl');
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an empty file is one "upload, finalize" at offset 0', async () => {
    const s = await uploadServer();
    try {
      await uploadFile(new GeminiClient({ apiKey: KEY, baseUrl: s.url, env: {} }), { data: new Uint8Array(0) }, { mimeType: 'jsonl' });
      assert.deepEqual(s.chunks.map((c) => [c.command, c.offset, c.length]), [['upload, finalize', 0, 0]]);
    } finally {
      await s.close();
    }
  });

  test('an unexpected x-goog-upload-status stops the upload with ApiError (no retry)', async () => {
    const s = await uploadServer({ badStatusAt: 1 });
    try {
      const c = new GeminiClient({ apiKey: KEY, baseUrl: s.url, env: {} });
      await assert.rejects(uploadFile(c, { data: bytes(250) }, { mimeType: 'jsonl', chunkBytes: 100 }), ApiError);
      assert.equal(s.chunks.length, 1);
    } finally {
      await s.close();
    }
  });
});

describe('files: download, get, list, delete', { timeout: 10_000 }, () => {
  test('download streams the body chunk by chunk from {v}/files/{id}:download?alt=media', async () => {
    const pieces = 'abcdefghijklmnop'.split('').map((k) => `{"key":"${k}"}\n`);
    let seenUrl = '';
    const server = http.createServer((req, res) => {
      seenUrl = req.url ?? '';
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const t = setInterval(() => {
        if (i < pieces.length) res.write(pieces[i++]);
        else {
          clearInterval(t);
          res.end();
        }
      }, 60);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new GeminiClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, env: {} });
      // The whole transfer (16 × 60 ms, ~1 s) outlives timeoutMs: only the gap between chunks is timed (a 60-ms gap
      // leaves a busy machine's timers ~500 ms of room).
      const body = await downloadFile(c, 'files/batch-0123456789abcdefghij0123456789abcdefghij01', { timeoutMs: 600 });
      const got: Uint8Array[] = [];
      for await (const chunk of body) got.push(chunk);
      assert.equal(seenUrl, '/v1beta/files/batch-0123456789abcdefghij0123456789abcdefghij01:download?alt=media');
      assert.ok(got.length >= 2, `expected several chunks, got ${got.length}`);
      assert.equal(Buffer.concat(got).toString(), pieces.join(''));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('a download that stalls mid-body fails with reason timeout', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new GeminiClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, env: {} });
      const body = await downloadFile(c, 'files/out1', { timeoutMs: 200 });
      await assert.rejects(
        (async () => {
          for await (const _chunk of body) void _chunk;
        })(),
        (e: unknown) => e instanceof ApiError && e.reason === 'timeout',
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('a consumer slower than timeoutMs between reads does not time out a healthy download', async () => {
    // The server sends everything at once; the caller then takes 300 ms per chunk (an fsync per image).
    const pieces = Array.from({ length: 4 }, (_, i) => `${'x'.repeat(70_000)}${i}\n`);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (const p of pieces) res.write(p);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new GeminiClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, env: {} });
      const body = await downloadFile(c, 'files/out2', { timeoutMs: 150 });
      const got: Uint8Array[] = [];
      let pauses = 0;
      for await (const chunk of body) {
        got.push(chunk);
        if (pauses++ < 3) await new Promise((r) => setTimeout(r, 300));
      }
      assert.ok(pauses >= 2, `expected the consumer to pause between chunks, got ${pauses} chunks`);
      assert.equal(Buffer.concat(got).toString(), pieces.join(''));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('download of a missing file throws before any byte is yielded', async () => {
    const f = (async () => new Response(JSON.stringify({ error: { code: 404, status: 'NOT_FOUND', message: 'no file' } }), { status: 404 })) as typeof fetch;
    const c = new GeminiClient({ apiKey: KEY, baseUrl: 'http://h.test', env: {}, fetch: f });
    await assert.rejects(downloadFile(c, 'files/x'), (e: unknown) => e instanceof ApiError && e.httpStatus === 404);
  });

  test('get/delete use files/{id}; list follows nextPageToken lazily', async () => {
    const calls: string[] = [];
    const f = (async (input: string | URL | Request, init?: RequestInit) => {
      const u = new URL(String(input));
      calls.push(`${init?.method} ${u.pathname}${u.search}`);
      if (u.pathname === '/v1beta/files' && !u.searchParams.get('pageToken')) {
        return Response.json({ files: [{ name: 'files/a' }, { name: 'files/b' }], nextPageToken: 'p2' });
      }
      if (u.pathname === '/v1beta/files') return Response.json({ files: [{ name: 'files/c' }] });
      if (init?.method === 'DELETE') return Response.json({});
      return Response.json({ name: 'files/a', state: 'ACTIVE' });
    }) as typeof fetch;
    const c = new GeminiClient({ apiKey: KEY, baseUrl: 'http://h.test', env: {}, fetch: f });
    assert.equal((await getFile(c, 'https://generativelanguage.googleapis.com/v1beta/files/a')).state, 'ACTIVE');
    await deleteFile(c, 'a');
    const names: string[] = [];
    for await (const file of listFiles(c, { pageSize: 2 })) names.push(file.name);
    assert.deepEqual(names, ['files/a', 'files/b', 'files/c']);
    assert.deepEqual(calls, [
      'GET /v1beta/files/a',
      'DELETE /v1beta/files/a',
      'GET /v1beta/files?pageSize=2',
      'GET /v1beta/files?pageSize=2&pageToken=p2',
    ]);
    await assert.rejects(getFile(c, 'files/../x'));
  });
});
