// Vertex AI against the emulator with google-auth-library's real flows, offline: a throwaway service account signs
// its own JWTs (verified by the emulator against its public key), and the emulator plays the GCE metadata server
// (GCE_METADATA_HOST) with tokens that expire in seconds. Nothing here may reach the real metadata address.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GeminiClient } from '../../src/gemini/client.ts';
import { vertexBackend } from '../../src/vertex/backend.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { AuthError } from '../../src/errors.ts';
import type { GenerateContentRequest } from '../../src/gemini/wire.ts';

// Never the link-local metadata server: detection is off unless a test points GCE_METADATA_HOST at the emulator.
process.env.METADATA_SERVER_DETECTION = 'none';
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
delete process.env.GOOGLE_CLOUD_PROJECT;
delete process.env.GCLOUD_PROJECT;

const MODEL = 'gemini-3-pro-image';
/** The emulator's line-up comes from the model registry; name the model this suite uses. */
const MODELS = { models: [MODEL] };
const request = (prompt: string): GenerateContentRequest => ({ contents: [{ parts: [{ text: prompt }] }], generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } });

let scratch: string;
let saFile: string;
let privateKey: string;
let publicKey: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ib-vertex-'));
  // No developer's own gcloud ADC file may be picked up.
  process.env.CLOUDSDK_CONFIG = join(scratch, 'gcloud');
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  saFile = join(scratch, 'sa.json');
  await writeFile(
    saFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'sa-project',
      private_key_id: 'k1',
      private_key: privateKey,
      client_email: 'runner@sa-project.iam.gserviceaccount.com',
      client_id: '1',
      // Never called: the client signs its own JWT.
      token_uri: 'http://127.0.0.1:9/token',
    }),
  );
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('Vertex backend: service-account file', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ ...MODELS, seed: 3, vertex: { serviceAccountKeys: [publicKey] } });
  });
  after(() => emu.close());

  test('every request carries the service account\'s self-signed JWT; the project comes from the file', async () => {
    const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, env: {} });
    assert.match(backend.id, /projects\/sa-project\/locations\/global/);
    const client = new GeminiClient({ backend });
    const outcomes = await Promise.all(['a fox', 'a hen', 'a cow'].map((p) => client.generateContent(MODEL, request(p))));
    for (const o of outcomes) assert.equal(o.kind, 'image', JSON.stringify(o));
    assert.equal(emu.counters.byRoute['vertex.generateContent'], 3);
    assert.equal(emu.vertex.jwtAccepted, 3);
    assert.equal(emu.vertex.tokensIssued, 0, 'no token endpoint or metadata round trip');
  });

  test('a JWT signed by another key is refused (401) and the outcome is an auth failure without the token', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const strict = await startEmulator({ ...MODELS, vertex: { serviceAccountKeys: [other] } });
    try {
      const backend = await vertexBackend({ keyFile: saFile, baseUrl: strict.url, env: {} });
      const o = await new GeminiClient({ backend }).generateContent(MODEL, request('x'));
      assert.equal(o.kind, 'error');
      assert.equal(o.kind === 'error' && o.reason, 'auth');
      assert.equal(o.kind === 'error' && o.httpStatus, 401);
      assert.doesNotMatch(JSON.stringify(o), /eyJ/, 'no JWT in the outcome');
    } finally {
      await strict.close();
    }
  });

  test('Vertex requires a role on every content: the client adds role "user"', async () => {
    const backend = await vertexBackend({ keyFile: saFile, baseUrl: emu.url, env: {} });
    const o = await new GeminiClient({ backend }).generateContent(MODEL, { contents: [{ parts: [{ text: 'roles' }] }] });
    assert.notEqual(o.kind, 'error', JSON.stringify(o));
  });
});

describe('Vertex backend: the metadata server (GCE_METADATA_HOST at the emulator)', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ ...MODELS, seed: 4, latency: { distribution: 'fixed', meanMs: 150 }, vertex: { tokenLifetimeMs: 2000, metadataProject: 'meta-project' } });
    process.env.GCE_METADATA_HOST = new URL(emu.url).host;
    process.env.METADATA_SERVER_DETECTION = 'ping-only';
  });
  after(async () => {
    process.env.METADATA_SERVER_DETECTION = 'none';
    delete process.env.GCE_METADATA_HOST;
    await emu.close();
  });

  test('project from the metadata server; tokens that expire in 2 s are refreshed once per lifetime, never used expired', async () => {
    const backend = await vertexBackend({ baseUrl: emu.url, env: {}, refreshMarginMs: 500 });
    assert.match(backend.id, /projects\/meta-project\/locations\/global/);
    const client = new GeminiClient({ backend });
    const started = performance.now();
    let next = 0;
    // 48 requests of 150 ms on 4 workers: at least 1.8 s, several refresh windows (more when the machine is slow).
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < 48) {
          const o = await client.generateContent(MODEL, request(`p${next++}`));
          assert.equal(o.kind, 'image', JSON.stringify(o));
        }
      }),
    );
    // A token is good for 2 s and refreshed 0.5 s early: at most one token request per 1.5 s, plus the first.
    const lifetimes = Math.ceil((performance.now() - started) / 1500);
    assert.equal(emu.vertex.expiredTokens, 0, 'no request went out on an expired token');
    assert.ok(emu.vertex.tokensIssued >= 2, `tokens were refreshed (${emu.vertex.tokensIssued})`);
    assert.ok(emu.vertex.tokensIssued <= lifetimes + 1, `${emu.vertex.tokensIssued} token requests for ${lifetimes} refresh windows`);
    assert.equal(emu.counters.byStatus['401'] ?? 0, 0);
  });

  test('a 401 (revoked token) is answered by one refresh shared by the requests that saw it, and one retry each', async () => {
    const backend = await vertexBackend({ baseUrl: emu.url, env: {}, refreshMarginMs: 500 });
    const client = new GeminiClient({ backend });
    assert.equal((await client.generateContent(MODEL, request('warm'))).kind, 'image');
    const before401 = emu.counters.byStatus['401'] ?? 0;
    const issued = emu.vertex.tokensIssued;
    emu.revokeTokens();
    const outcomes = await Promise.all(['r1', 'r2', 'r3'].map((p) => client.generateContent(MODEL, request(p))));
    for (const o of outcomes) assert.equal(o.kind, 'image', JSON.stringify(o));
    assert.equal((emu.counters.byStatus['401'] ?? 0) - before401, 3, 'each request saw the revoked token once');
    assert.equal(emu.vertex.tokensIssued - issued, 1, 'one refresh served all three');
  });
});

describe('Vertex backend: Express mode and no credentials', () => {
  test('an API key without a project uses the Express route with the key header', async () => {
    const emu = await startEmulator({ ...MODELS, apiKey: 'express-key' });
    try {
      const backend = await vertexBackend({ baseUrl: emu.url, env: { GOOGLE_API_KEY: 'express-key' } });
      assert.match(backend.id, /^vertex-express /);
      const o = await new GeminiClient({ backend }).generateContent(MODEL, request('express'));
      assert.equal(o.kind, 'image', JSON.stringify(o));
      assert.equal(emu.counters.byRoute['vertexExpress.generateContent'], 1);
    } finally {
      await emu.close();
    }
  });

  test('no project, no key, no credentials: AuthError naming the three ways', async () => {
    await assert.rejects(vertexBackend({ env: {} }), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.match(e.message, /GOOGLE_APPLICATION_CREDENTIALS/);
      assert.match(e.message, /gcloud auth application-default login/);
      assert.match(e.message, /GOOGLE_API_KEY/);
      return true;
    });
  });

  test('a malformed credentials file is named, its content never echoed', async () => {
    const bad = join(scratch, 'bad.json');
    await writeFile(bad, '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----SECRETSECRET');
    await assert.rejects(vertexBackend({ keyFile: bad, env: {} }), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.match(e.message, /bad\.json/);
      assert.doesNotMatch(e.message, /SECRETSECRET|BEGIN PRIVATE/);
      return true;
    });
  });
});
