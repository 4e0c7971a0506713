// Whole runs on the Vertex backend against the emulator: every image saved, Vertex's errors mapped onto the same
// outcomes (the bare 429 is congestion, 403/404 stop the run with what to do), no credential in any output.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runToDisk } from '../../src/run-disk.ts';
import { generateImages } from '../../src/run.ts';
import { vertexBackend } from '../../src/vertex/backend.ts';
import { ModelNotFoundError, PermissionError } from '../../src/errors.ts';
import { collect, emulator, filesUnder, manifestOf, tempDir } from '../helpers/emu.ts';
import { readFile } from 'node:fs/promises';

process.env.METADATA_SERVER_DETECTION = 'none';

const MODEL = 'gemini-3-pro-image';
const MODELS = { models: [MODEL] };
const prompts = (n: number) => Array.from({ length: n }, (_, i) => `vertex prompt ${i}`);

let scratch: { dir: string; cleanup: () => Promise<void> };
let saFile: string;
let publicKey: string;
let privateKey: string;

before(async () => {
  scratch = await tempDir('ib-vertex-run-');
  process.env.CLOUDSDK_CONFIG = join(scratch.dir, 'gcloud');
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  saFile = join(scratch.dir, 'sa.json');
  const sa = { type: 'service_account', project_id: 'run-project', private_key_id: 'k9', private_key: privateKey, client_email: 'r@run-project.iam.gserviceaccount.com', client_id: '9', token_uri: 'http://127.0.0.1:9/token' };
  await writeFile(saFile, JSON.stringify(sa));
});
after(() => scratch.cleanup());

describe('runs on Vertex AI', () => {
  test('a service-account run saves every image; manifest, events and errors carry no credential', async () => {
    const emu = await emulator({ ...MODELS, vertex: { serviceAccountKeys: [publicKey] } });
    const out = await tempDir();
    try {
      const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, env: {} });
      const events: string[] = [];
      const summary = await runToDisk(prompts(6), { out: out.dir, model: MODEL, backend, concurrency: 3, cacheDir: false, onEvent: (e) => events.push(JSON.stringify(e)) });
      assert.equal(summary.succeeded, 6);
      assert.equal(emu.vertex.jwtAccepted, 7, 'the preflight read of the publisher model and the six generates');
      const manifest = await manifestOf(out.dir);
      assert.equal(manifest.filter((m) => m.status === 'succeeded').length, 6);
      const everything = [...events, ...(await Promise.all((await filesUnder(out.dir)).map((f) => readFile(join(out.dir, f), 'latin1'))))].join('\n');
      assert.doesNotMatch(everything, /BEGIN PRIVATE KEY|eyJhbGciOi/, 'no key material and no JWT anywhere in the output');
    } finally {
      await out.cleanup();
      await emu.close();
    }
  });

  test('Vertex\'s bare 429 above a hidden concurrency is congestion: backed off, every prompt still succeeds', async () => {
    const emu = await emulator({ ...MODELS, seed: 5, latency: { distribution: 'fixed', meanMs: 40 }, vertex: { serviceAccountKeys: [publicKey], overload: { concurrency: 2, probability: 0.3 } } });
    try {
      const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, env: {} });
      const results = await collect(generateImages(prompts(24), { model: MODEL, backend, concurrency: 8, maxAttempts: 12, random: () => 0.5 }));
      assert.equal(results.filter((r) => r.status === 'succeeded').length, 24);
      assert.ok((emu.counters.faults.vertexOverload ?? 0) > 0, 'the overload answer was exercised');
      assert.equal(emu.counters.byStatus['429'], emu.counters.faults.vertexOverload);
    } finally {
      await emu.close();
    }
  });

  test('API not enabled (403 SERVICE_DISABLED) stops the run with the gcloud command that enables it', async () => {
    const emu = await emulator({ ...MODELS, vertex: { serviceAccountKeys: [publicKey], disabledProjects: ['run-project'] } });
    try {
      const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, env: {} });
      await assert.rejects(collect(generateImages(prompts(5), { model: MODEL, backend, concurrency: 2 })), (e: unknown) => {
        assert.ok(e instanceof PermissionError, String(e));
        assert.match(e.message, /gcloud services enable aiplatform\.googleapis\.com --project run-project/);
        return true;
      });
      assert.ok(emu.counters.byRoute['vertex.generateContent']! <= 2, 'stopped after at most one request per slot');
    } finally {
      await emu.close();
    }
  });

  test('billing disabled stops the run and says so', async () => {
    const emu = await emulator({ ...MODELS, vertex: { serviceAccountKeys: [publicKey], billingDisabledProjects: ['run-project'] } });
    try {
      const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, env: {} });
      await assert.rejects(collect(generateImages(prompts(3), { model: MODEL, backend, concurrency: 1 })), (e: unknown) => {
        assert.ok(e instanceof PermissionError, String(e));
        assert.match(e.message, /billing/i);
        return true;
      });
    } finally {
      await emu.close();
    }
  });

  test('a model the location does not serve (404) stops the run and suggests another --location', async () => {
    const emu = await emulator({ ...MODELS, vertex: { serviceAccountKeys: [publicKey], modelLocations: { [MODEL]: ['global'] } } });
    try {
      const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, location: 'europe-west4', env: {} });
      await assert.rejects(collect(generateImages(prompts(3), { model: MODEL, backend, concurrency: 1 })), (e: unknown) => {
        assert.ok(e instanceof ModelNotFoundError, String(e));
        assert.match(e.message, /europe-west4/);
        assert.match(e.message, /--location global/);
        return true;
      });
    } finally {
      await emu.close();
    }
  });

  test('the cache keeps Vertex and Developer-API answers apart unless both runs name one cacheNamespace; the manifest says vertex', async () => {
    const emu = await emulator({ ...MODELS, apiKey: 'dev-key', vertex: { serviceAccountKeys: [publicKey] } });
    const cacheDir = await tempDir('ib-vertex-cache-');
    const outs = await Promise.all([tempDir(), tempDir(), tempDir(), tempDir()]);
    try {
      const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, env: {} });
      const v = await runToDisk(prompts(3), { out: outs[0]!.dir, model: MODEL, backend, cacheDir: cacheDir.dir });
      assert.equal(v.succeeded, 3);
      assert.ok((await manifestOf(outs[0]!.dir)).every((m) => m.backend === 'vertex'));
      // Same prompts on the Developer API (same emulator, same base URL): nothing comes from Vertex's entries.
      const d = await runToDisk(prompts(3), { out: outs[1]!.dir, model: MODEL, apiKey: 'dev-key', baseUrl: emu.url, cacheDir: cacheDir.dir });
      assert.equal(d.cached, 0);
      assert.equal(emu.counters.byRoute.generateContent, 3);
      assert.ok((await manifestOf(outs[1]!.dir)).every((m) => m.backend === undefined));
      // Opting in: a Vertex run naming the namespace the Developer-API run would use shares its answers.
      const shared = await runToDisk(prompts(3), { out: outs[2]!.dir, model: MODEL, backend, cacheDir: cacheDir.dir, cacheNamespace: 'team-images' });
      assert.equal(shared.cached, 0, 'a new namespace starts empty');
      const again = await runToDisk(prompts(3), { out: outs[3]!.dir, model: MODEL, apiKey: 'dev-key', baseUrl: emu.url, cacheDir: cacheDir.dir, cacheNamespace: 'team-images' });
      assert.equal(again.cached, 3, 'the Developer-API run shares the named namespace');
    } finally {
      await Promise.all(outs.map((o) => o.cleanup()));
      await cacheDir.cleanup();
      await emu.close();
    }
  });
});
