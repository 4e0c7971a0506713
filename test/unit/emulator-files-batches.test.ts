import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/internal/clock.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.ts';
import type { BatchOperation, BatchOutputLine, ErrorBody, FileResource, ListBatchesResponse, ListFilesResponse } from '../../src/gemini/wire.ts';

const KEY = { 'x-goog-api-key': 'k' };
const MODEL = 'gemini-2.5-flash-image';

async function withEmu(opts: EmulatorOptions, fn: (emu: Emulator, clock: FakeClock) => Promise<void>): Promise<void> {
  const clock = new FakeClock(0);
  const emu = await startEmulator({ existingUser: true, clock, ...opts });
  try {
    await fn(emu, clock);
  } finally {
    await emu.close();
  }
}

async function startUpload(emu: Emulator, size: number, file: Record<string, unknown> = { display_name: 'in', mime_type: 'jsonl' }): Promise<string> {
  const res = await fetch(`${emu.url}/upload/v1beta/files`, {
    method: 'POST',
    headers: {
      ...KEY,
      'content-type': 'application/json',
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': String(size),
    },
    body: JSON.stringify({ file }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-goog-upload-status'), 'active');
  const url = res.headers.get('x-goog-upload-url') ?? '';
  assert.match(url, /\/upload\/v1beta\/files\?upload_id=[^&]+&upload_protocol=resumable$/);
  return url;
}

function chunk(url: string, body: Buffer, offset: number, command: string): Promise<Response> {
  // No API key: the upload id is the credential.
  return fetch(url, { method: 'POST', headers: { 'x-goog-upload-command': command, 'x-goog-upload-offset': String(offset) }, body: new Uint8Array(body) });
}

async function upload(emu: Emulator, data: Buffer): Promise<FileResource> {
  const url = await startUpload(emu, data.length);
  const res = await chunk(url, data, 0, 'upload, finalize');
  assert.equal(res.headers.get('x-goog-upload-status'), 'final');
  return ((await res.json()) as { file: FileResource }).file;
}

const get = (emu: Emulator, path: string) => fetch(`${emu.url}${path}`, { headers: KEY });
const call = (emu: Emulator, method: string, path: string, body?: unknown) =>
  fetch(`${emu.url}${path}`, { method, headers: { ...KEY, 'content-type': 'application/json' }, body: body === undefined ? '{}' : JSON.stringify(body) });

const line = (key: string, prompt: string) => JSON.stringify({ key, request: { contents: [{ parts: [{ text: prompt }] }], generation_config: { response_modalities: ['IMAGE'] } } });

describe('emulator Files API', () => {
  test('chunked upload: offsets checked, File resource per Google', () =>
    withEmu({}, async (emu) => {
      const data = Buffer.from('x'.repeat(1000));
      const url = await startUpload(emu, data.length);
      const first = await chunk(url, data.subarray(0, 600), 0, 'upload');
      assert.equal(first.headers.get('x-goog-upload-status'), 'active');
      const wrong = await chunk(url, data.subarray(600), 100, 'upload, finalize');
      assert.equal(wrong.status, 400);
      const last = await chunk(url, data.subarray(600), 600, 'upload, finalize');
      assert.equal(last.headers.get('x-goog-upload-status'), 'final');
      const { file } = (await last.json()) as { file: FileResource };
      assert.match(file.name, /^files\/[a-z0-9]{12}$/);
      assert.equal(file.displayName, 'in');
      assert.equal(file.mimeType, 'jsonl');
      assert.equal(file.sizeBytes, '1000');
      assert.equal(file.state, 'ACTIVE');
      assert.equal(file.source, 'UPLOADED');
      assert.equal(file.uri, `${emu.url}/v1beta/files/${file.name.slice(6)}`);
      assert.equal(Buffer.from(file.sha256Hash!, 'base64').toString(), createHash('sha256').update(data).digest('hex'));
      assert.equal(Date.parse(file.expirationTime!) - Date.parse(file.createTime!), 48 * 3600 * 1000);
      assert.equal(emu.counters.uploads, 1);
    }));

  test('finalizing with fewer bytes than declared is refused', () =>
    withEmu({}, async (emu) => {
      const url = await startUpload(emu, 10);
      assert.equal((await chunk(url, Buffer.from('abc'), 0, 'upload, finalize')).status, 400);
    }));

  test('get, list with pages, delete; ids over 40 chars are 400; unknown is 403', () =>
    withEmu({}, async (emu) => {
      const files = [];
      for (let i = 0; i < 3; i++) files.push(await upload(emu, Buffer.from(`file ${i}`)));
      const got = (await (await get(emu, `/v1beta/${files[0]!.name}`)).json()) as FileResource;
      assert.deepEqual(got, files[0]);
      const p1 = (await (await get(emu, '/v1beta/files?pageSize=2')).json()) as ListFilesResponse;
      assert.equal(p1.files?.length, 2);
      assert.ok(p1.nextPageToken);
      const p2 = (await (await get(emu, `/v1beta/files?pageSize=2&pageToken=${p1.nextPageToken}`)).json()) as ListFilesResponse;
      assert.deepEqual(p2.files?.map((f) => f.name), [files[2]!.name]);
      assert.equal(p2.nextPageToken, undefined);
      const del = await call(emu, 'DELETE', `/v1beta/${files[1]!.name}`);
      assert.deepEqual(await del.json(), {});
      assert.equal((await get(emu, `/v1beta/${files[1]!.name}`)).status, 403);
      const long = await get(emu, `/v1beta/files/${'a'.repeat(41)}`);
      assert.equal(long.status, 400);
      assert.equal(((await long.json()) as ErrorBody).error.message, "* GetFileRequest.name: File ID (name excluding 'files/') cannot be more than 40 characters.\n");
      const dl = await get(emu, `/v1beta/${files[0]!.name}:download?alt=media`);
      assert.equal(dl.status, 400, 'uploaded files cannot be downloaded');
    }));
});

describe('emulator Batch API', () => {
  test('file batch: PENDING → RUNNING → SUCCEEDED on the scaled clock; output file downloads, get fails', () =>
    withEmu({ timeScale: 0.5, batch: { pendingMs: 1000, msPerRequest: 100, lineErrorEvery: 3 } }, async (emu, clock) => {
      const input = ['a', 'b', 'c', 'd'].map((k) => line(k, `prompt ${k}`)).join('\n') + '\n';
      const file = await upload(emu, Buffer.from(input));
      const created = (await (await call(emu, 'POST', `/v1beta/models/${MODEL}:batchGenerateContent`, { batch: { display_name: 'job', input_config: { file_name: file.name } } })).json()) as BatchOperation;
      assert.match(created.name, /^batches\/[a-z0-9]{36}$/);
      const meta = created.metadata;
      assert.equal(meta['@type'], 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch');
      assert.equal(meta.model, `models/${MODEL}`);
      assert.equal(meta.displayName, 'job');
      assert.deepEqual(meta.inputConfig, { fileName: file.name });
      assert.deepEqual(meta.batchStats, { requestCount: '4', pendingRequestCount: '4' });
      assert.equal(meta.state, 'BATCH_STATE_PENDING');
      assert.equal(created.done, undefined);
      const id = created.name.slice('batches/'.length);

      await clock.advance(500 + 100); // 1200 emulated ms: 2 of 4 processed
      const running = (await (await get(emu, `/v1beta/batches/${id}`)).json()) as BatchOperation;
      assert.equal(running.metadata.state, 'BATCH_STATE_RUNNING');
      assert.deepEqual(running.metadata.batchStats, { requestCount: '4', pendingRequestCount: '2', successfulRequestCount: '2' });

      await clock.advance(200);
      const done = (await (await get(emu, `/v1beta/batches/${id}`)).json()) as BatchOperation;
      assert.equal(done.metadata.state, 'BATCH_STATE_SUCCEEDED');
      assert.equal(done.done, true);
      assert.ok(done.metadata.endTime);
      assert.deepEqual(done.metadata.batchStats, { requestCount: '4', successfulRequestCount: '3', failedRequestCount: '1' });
      const out = `files/batch-${id}`;
      assert.deepEqual(done.metadata.output, { responsesFile: out });
      assert.deepEqual(done.response, { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput', responsesFile: out });

      assert.equal((await get(emu, `/v1beta/${out}`)).status, 400);
      for (const path of [`/v1beta/${out}:download?alt=media`, `/download/v1beta/${out}:download?alt=media`]) {
        const text = await (await get(emu, path)).text();
        const lines = text.trim().split('\n').map((l) => JSON.parse(l) as BatchOutputLine);
        assert.deepEqual(lines.map((l) => l.key), ['a', 'b', 'c', 'd']);
        assert.deepEqual(lines[2]!.error, { code: 13, message: 'Internal error encountered.' });
        const parts = lines[0]!.response!.candidates![0]!.content!.parts!;
        assert.equal(parts.length, 1);
        assert.equal(parts[0]!.inlineData!.mimeType, 'image/png');
      }
      assert.equal(emu.counters.batchRequests, 4);
    }));

  test('inline batch: responses in input order echo metadata; list omits inline payloads', () =>
    withEmu({ batch: { pendingMs: 0, msPerRequest: 0 }, faults: { scripted: [{ match: 'blocked', fault: 'promptBlock' }, { match: 'boom', fault: 'http503' }] } }, async (emu, clock) => {
      const requests = ['one', 'blocked', 'boom'].map((p) => ({ request: { contents: [{ parts: [{ text: p }] }] }, metadata: { key: p } }));
      const created = (await (await call(emu, 'POST', `/v1beta/models/${MODEL}:batchGenerateContent`, { batch: { inputConfig: { requests: { requests } } } })).json()) as BatchOperation;
      assert.equal(created.metadata.inputConfig, undefined, 'inline input is not echoed');
      await clock.advance(1);
      const op = (await (await get(emu, `/v1beta/${created.name}`)).json()) as BatchOperation;
      const out = op.metadata.output?.inlinedResponses?.inlinedResponses ?? [];
      assert.deepEqual(out.map((r) => r.metadata?.key), ['one', 'blocked', 'boom']);
      assert.ok(out[0]!.response?.candidates);
      assert.deepEqual(out[1]!.response?.promptFeedback, { blockReason: 'PROHIBITED_CONTENT' });
      assert.deepEqual(out[2]!.error, { code: 14, message: 'The model is overloaded. Please try again later.' });
      assert.deepEqual(op.response?.inlinedResponses, op.metadata.output?.inlinedResponses);
      const list = (await (await get(emu, '/v1beta/batches')).json()) as ListBatchesResponse;
      assert.equal(list.operations?.length, 1);
      assert.equal(list.operations?.[0]?.metadata.output, undefined);
      assert.ok(!JSON.stringify(list).includes('inlineData'));
    }));

  test('cancel, delete, whole-job failure and expiry', async () => {
    const create = (emu: Emulator) =>
      call(emu, 'POST', `/v1beta/models/${MODEL}:batchGenerateContent`, { batch: { inputConfig: { requests: { requests: [{ request: { contents: [{ parts: [{ text: 'x' }] }] } }] } } } }).then(
        async (r) => ((await r.json()) as BatchOperation).name,
      );
    await withEmu({ batch: { pendingMs: 1000 } }, async (emu, clock) => {
      const name = await create(emu);
      const cancel = await call(emu, 'POST', `/v1beta/${name}:cancel`);
      assert.deepEqual(await cancel.json(), {});
      await clock.advance(5000);
      const op = (await (await get(emu, `/v1beta/${name}`)).json()) as BatchOperation;
      assert.equal(op.metadata.state, 'BATCH_STATE_CANCELLED');
      assert.equal(op.done, true);
      assert.deepEqual(await (await call(emu, 'DELETE', `/v1beta/${name}`)).json(), {});
      assert.equal((await get(emu, `/v1beta/${name}`)).status, 404);
    });
    await withEmu({ batch: { pendingMs: 10, failJob: true } }, async (emu, clock) => {
      const name = await create(emu);
      await clock.advance(100);
      const op = (await (await get(emu, `/v1beta/${name}`)).json()) as BatchOperation;
      assert.equal(op.metadata.state, 'BATCH_STATE_FAILED');
      assert.equal(op.done, true);
      assert.equal(op.error?.code, 13);
      assert.equal(op.metadata.output, undefined);
    });
    await withEmu({ batch: { pendingMs: 10, expire: true } }, async (emu, clock) => {
      const name = await create(emu);
      await clock.advance(100);
      const op = (await (await get(emu, `/v1beta/${name}`)).json()) as BatchOperation;
      assert.equal(op.metadata.state, 'BATCH_STATE_EXPIRED');
      assert.equal(op.done, true);
    });
  });

  test('inline requests over 20 MB, unknown models and missing input are 400/404', () =>
    withEmu({}, async (emu) => {
      const huge = 'x'.repeat(21 * 1024 * 1024);
      const big = await call(emu, 'POST', `/v1beta/models/${MODEL}:batchGenerateContent`, { batch: { inputConfig: { requests: { requests: [{ request: { contents: [{ parts: [{ text: huge }] }] } }] } } } });
      assert.equal(big.status, 400);
      assert.match(((await big.json()) as ErrorBody).error.message, /exceeds the limit/);
      const unknown = await call(emu, 'POST', '/v1beta/models/nope:batchGenerateContent', { batch: { inputConfig: { fileName: 'files/x' } } });
      assert.equal(unknown.status, 404);
      const missing = await call(emu, 'POST', `/v1beta/models/${MODEL}:batchGenerateContent`, { batch: {} });
      assert.equal(missing.status, 400);
    }));

  test('spoolDir: the results file is rendered once and served byte for byte the same, with a Content-Length', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imagebatch-emu-spool-'));
    // Enough lines to span several 256 KiB writes, so the coalescing is crossed too.
    const input = Array.from({ length: 60 }, (_, i) => line(`k${i}`, `spooled lighthouse ${i}`)).join('\n') + '\n';
    const download = async (opts: EmulatorOptions) => {
      let body: Buffer = Buffer.alloc(0);
      let length: string | null = null;
      let spooled: string[] = [];
      await withEmu({ seed: 7, batch: { pendingMs: 0, msPerRequest: 0, lineErrorEvery: 7 }, imageBytes: 20_000, ...opts }, async (emu, clock) => {
        const file = await upload(emu, Buffer.from(input));
        const created = (await (await call(emu, 'POST', `/v1beta/models/${MODEL}:batchGenerateContent`, { batch: { input_config: { file_name: file.name } } })).json()) as BatchOperation;
        await clock.advance(1);
        const op = (await (await get(emu, `/v1beta/${created.name}`)).json()) as BatchOperation;
        const out = op.response?.responsesFile ?? '';
        const bodies: Buffer[] = [];
        for (let i = 0; i < 2; i++) {
          const res = await get(emu, `/v1beta/${out}:download?alt=media`);
          length = res.headers.get('content-length');
          bodies.push(Buffer.from(await res.arrayBuffer()));
        }
        assert.ok(bodies[0]!.equals(bodies[1]!), 'two downloads of one file are the same bytes');
        body = bodies[0]!;
        spooled = opts.batch?.spoolDir ? await readdir(opts.batch.spoolDir) : [];
      });
      return { body, length, spooled };
    };
    try {
      const rendered = await download({});
      const served = await download({ batch: { pendingMs: 0, msPerRequest: 0, lineErrorEvery: 7, spoolDir: dir } });
      assert.ok(rendered.body.byteLength > 1024 * 1024, `${rendered.body.byteLength} bytes: more than one write`);
      assert.equal(rendered.body.toString().trim().split('\n').length, 60);
      assert.ok(served.body.equals(rendered.body), 'the spooled copy is what rendering gives');
      assert.equal(rendered.length, null, 'rendered on the fly: chunked');
      assert.equal(served.length, String(rendered.body.byteLength));
      assert.equal(served.spooled.length, 1);
      assert.match(served.spooled[0]!, /^batch-[a-z0-9]+\.jsonl$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
