// The official @google/genai 2.32 SDK, unchanged, against the emulator: proves the emulator speaks real Gemini.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { ApiError, GoogleGenAI } from '@google/genai';
import type { BatchJob } from '@google/genai';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import type { BatchOutputLine } from '../../src/gemini/wire.ts';
import { DEFAULT_MODEL } from '../../src/models/index.ts';

delete process.env.GOOGLE_GENAI_USE_VERTEXAI;

const MODEL = 'gemini-2.5-flash-image';
const TERMINAL = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

describe('@google/genai 2.32 against the emulator', () => {
  let emu: Emulator;
  let ai: GoogleGenAI;
  let dir: string;
  const quiet = console.warn;

  before(async () => {
    // The SDK warns about non-text parts on every image answer; keep the test output readable.
    console.warn = () => {};
    // A project that used gemini-2.5-flash-image before: it stays callable (restricted to existing users).
    emu = await startEmulator({ apiKey: 'test-key', existingUser: true, timeScale: 0.001, batch: { pendingMs: 20_000, msPerRequest: 5_000 } });
    ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: emu.url } });
    dir = await mkdtemp(join(tmpdir(), 'imagebatch-sdk-'));
  });
  after(async () => {
    console.warn = quiet;
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function waitDone(name: string): Promise<BatchJob> {
    for (let i = 0; i < 500; i++) {
      const job = await ai.batches.get({ name });
      if (job.state && TERMINAL.has(job.state)) return job;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`batch ${name} did not finish`);
  }

  test('generateContent: response.data decodes as PNG, response.text is the text part', async () => {
    const r = await ai.models.generateContent({
      model: MODEL,
      contents: 'A watercolor fox',
      config: { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: '3:2' } },
    });
    assert.match(r.text ?? '', /watercolor fox/);
    const png = PNG.sync.read(Buffer.from(r.data ?? '', 'base64'));
    assert.deepEqual([png.width, png.height], [156, 104]);
    assert.equal(r.candidates?.[0]?.finishReason, 'STOP');
    assert.equal(r.usageMetadata?.candidatesTokensDetails?.[0]?.tokenCount, 1290);
    assert.equal(r.modelVersion, MODEL);
  });

  test('generateContent on a thinking model: .text skips thoughts; the final part has a thoughtSignature', async () => {
    const r = await ai.models.generateContent({ model: 'gemini-3.1-flash-image', contents: 'A paper crane' });
    assert.equal(r.text, undefined);
    const parts = r.candidates?.[0]?.content?.parts ?? [];
    assert.ok(parts.at(-1)?.thoughtSignature);
    assert.equal(parts.filter((p) => p.thought).length, 2);
  });

  test('generateContentStream: text chunk, image chunk, final chunk with finishReason', async () => {
    const chunks = [];
    for await (const c of await ai.models.generateContentStream({ model: MODEL, contents: 'A lantern' })) chunks.push(c);
    assert.equal(chunks.length, 3);
    assert.ok(chunks[0]?.text);
    assert.ok(PNG.sync.read(Buffer.from(chunks[1]?.data ?? '', 'base64')).width > 0);
    assert.equal(chunks[2]?.candidates?.[0]?.finishReason, 'STOP');
  });

  test('a quota 429 surfaces as ApiError(429) whose message parses to the body with RetryInfo', async () => {
    emu.setQuota({ requestsPerMinute: 0 });
    try {
      await assert.rejects(ai.models.generateContent({ model: MODEL, contents: 'x' }), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 429);
        const body = JSON.parse(e.message) as { error: { status: string; details: Array<Record<string, unknown>> } };
        assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
        const retry = body.error.details.find((d) => String(d['@type']).endsWith('RetryInfo'));
        assert.match(String(retry?.retryDelay), /^\d+(\.\d+)?s$/);
        return true;
      });
    } finally {
      emu.setQuota({ requestsPerMinute: undefined });
    }
  });

  test('a wrong key surfaces as ApiError(400) API_KEY_INVALID', async () => {
    const bad = new GoogleGenAI({ apiKey: 'nope', httpOptions: { baseUrl: emu.url } });
    await assert.rejects(bad.models.generateContent({ model: MODEL, contents: 'x' }), (e: unknown) => e instanceof ApiError && e.status === 400 && e.message.includes('API_KEY_INVALID'));
  });

  test('files: upload jsonl and a >8 MiB file (chunked), get, list, delete', async () => {
    const small = join(dir, 'small.jsonl');
    await writeFile(small, '{"key":"a","request":{"contents":[{"parts":[{"text":"hi"}]}]}}\n');
    const f1 = await ai.files.upload({ file: small, config: { mimeType: 'jsonl', displayName: 'small' } });
    assert.equal(f1.mimeType, 'jsonl');
    assert.equal(f1.state, 'ACTIVE');

    const chunksBefore = emu.counters.byRoute.uploadChunk ?? 0;
    const bigPath = join(dir, 'big.bin');
    const big = Buffer.alloc(9 * 1024 * 1024, 7);
    await writeFile(bigPath, big);
    const f2 = await ai.files.upload({ file: bigPath, config: { mimeType: 'application/octet-stream' } });
    assert.equal(f2.sizeBytes, String(big.length));
    assert.equal((emu.counters.byRoute.uploadChunk ?? 0) - chunksBefore, 2, 'two 8 MiB-max chunks');

    const got = await ai.files.get({ name: f1.name! });
    assert.equal(got.displayName, 'small');
    const names: string[] = [];
    for await (const f of await ai.files.list({ config: { pageSize: 1 } })) names.push(f.name!);
    assert.ok(names.includes(f1.name!) && names.includes(f2.name!));
    await ai.files.delete({ name: f2.name! });
    await assert.rejects(ai.files.get({ name: f2.name! }), (e: unknown) => e instanceof ApiError && e.status === 403);
  });

  test('batches: inline job runs to JOB_STATE_SUCCEEDED with responses in input order', async () => {
    const job = await ai.batches.create({
      model: MODEL,
      src: [
        { contents: [{ role: 'user', parts: [{ text: 'first' }] }], metadata: { key: 'k1' }, config: { responseModalities: ['IMAGE'] } },
        { contents: [{ role: 'user', parts: [{ text: 'second' }] }], metadata: { key: 'k2' } },
      ],
      config: { displayName: 'inline-job' },
    });
    assert.equal(job.state, 'JOB_STATE_PENDING');
    const done = await waitDone(job.name!);
    assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
    const out = done.dest?.inlinedResponses ?? [];
    assert.deepEqual(out.map((r) => r.metadata?.key), ['k1', 'k2']);
    const parts = out[0]?.response?.candidates?.[0]?.content?.parts ?? [];
    assert.equal(parts.length, 1);
    assert.ok(PNG.sync.read(Buffer.from(parts[0]?.inlineData?.data ?? '', 'base64')).width > 0);
  });

  test('batches: file job, list, download files/batch-<id>; files.get on it fails with 400', async () => {
    const input = join(dir, 'batch.jsonl');
    const keys = ['r1', 'r2', 'r3'];
    await writeFile(input, keys.map((k) => JSON.stringify({ key: k, request: { contents: [{ parts: [{ text: `prompt ${k}` }] }] } })).join('\n'));
    const file = await ai.files.upload({ file: input, config: { mimeType: 'jsonl' } });
    const job = await ai.batches.create({ model: MODEL, src: file.name!, config: { displayName: 'file-job' } });
    const done = await waitDone(job.name!);
    assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
    const outName = done.dest?.fileName ?? '';
    assert.equal(outName, `files/batch-${job.name!.slice('batches/'.length)}`);

    const listed: string[] = [];
    for await (const j of await ai.batches.list({ config: { pageSize: 10 } })) listed.push(j.name!);
    assert.ok(listed.includes(job.name!));

    const target = join(dir, 'results.jsonl');
    await ai.files.download({ file: outName, downloadPath: target });
    const lines = (await readFile(target, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as BatchOutputLine);
    assert.deepEqual(lines.map((l) => l.key), keys);
    assert.ok(lines.every((l) => l.response?.candidates?.[0]?.content?.parts?.some((p) => p.inlineData)));

    await assert.rejects(ai.files.get({ name: outName }), (e: unknown) => e instanceof ApiError && e.status === 400);
  });

  test('batches: cancel a pending job, then delete it', async () => {
    const slow = await startEmulator({ existingUser: true, batch: { pendingMs: 1e9 } });
    try {
      const sdk = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: slow.url } });
      const job = await sdk.batches.create({ model: MODEL, src: [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }] });
      await sdk.batches.cancel({ name: job.name! });
      assert.equal((await sdk.batches.get({ name: job.name! })).state, 'JOB_STATE_CANCELLED');
      await sdk.batches.delete({ name: job.name! });
      await assert.rejects(sdk.batches.get({ name: job.name! }), (e: unknown) => e instanceof ApiError && e.status === 404);
    } finally {
      await slow.close();
    }
  });
});

describe('@google/genai models.get / models.list against the emulator (a new project)', () => {
  let emu: Emulator;
  let ai: GoogleGenAI;
  before(async () => {
    emu = await startEmulator({ apiKey: 'test-key' });
    ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: emu.url } });
  });
  after(() => emu.close());

  test('models.get answers Google\'s Model fields from the registry', async () => {
    const m = await ai.models.get({ model: DEFAULT_MODEL });
    assert.equal(m.name, `models/${DEFAULT_MODEL}`);
    assert.equal(m.displayName, 'Nano Banana 2.1');
    assert.equal(m.thinking, true);
    assert.ok(m.supportedActions?.includes('generateContent'), JSON.stringify(m));
    assert.ok((m.inputTokenLimit ?? 0) > 0 && (m.outputTokenLimit ?? 0) > 0);
  });

  test('models.list pages through every model a new project may call', async () => {
    const names: string[] = [];
    const pager = await ai.models.list({ config: { pageSize: 2 } });
    for await (const m of pager) names.push(m.name ?? '');
    assert.ok(names.includes(`models/${DEFAULT_MODEL}`) && names.includes('models/gemini-3-pro-image'), names.join());
    assert.ok(!names.includes('models/gemini-2.5-flash-image'), 'closed to new users');
    assert.ok((emu.counters.byRoute.modelsList ?? 0) >= 3, 'the SDK followed nextPageToken');
  });

  test('models.get of a shut-down, a closed and an unknown model: 404 with Google\'s three messages', async () => {
    const message = async (model: string) =>
      ai.models.get({ model }).then(
        () => 'no error',
        (e: unknown) => (e instanceof ApiError ? `${e.status} ${e.message}` : String(e)),
      );
    assert.match(await message('gemini-3-pro-image-preview'), /^404 .*This model models\/gemini-3-pro-image-preview is no longer available\./);
    assert.match(await message('gemini-2.5-flash-image'), /^404 .*no longer available to new users/);
    assert.match(await message('gemini-0-nope-image'), /^404 .*is not found for API version v1beta/);
  });
});
