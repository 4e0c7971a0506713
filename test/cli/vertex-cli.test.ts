// `imagebatch generate --vertex` end to end: the built-in emulator in Express mode, a service-account file against
// an emulator that knows its public key, and the flag combinations that must stop before anything is sent.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { emulator, filesUnder, manifestOf, tempDir } from '../helpers/emu.ts';
import { DEFAULT_MODEL } from '../../src/models/index.ts';

describe('imagebatch generate --vertex', () => {
  let scratch: { dir: string; cleanup: () => Promise<void> };
  let prompts: string;
  before(async () => {
    scratch = await tempDir('ib-vertex-cli-');
    prompts = join(scratch.dir, 'p.txt');
    await writeFile(prompts, 'a kite\na boat\na tree\n');
  });
  after(() => scratch.cleanup());

  test('--emulator --vertex runs in Express mode against the built-in emulator; manifest lines say vertex', async () => {
    const r = await runCli(['generate', prompts, '--emulator', '--vertex', '--out', 'out-express'], { cwd: scratch.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const m = await manifestOf(join(scratch.dir, 'out-express'));
    assert.equal(m.length, 3);
    assert.ok(m.every((e) => e.status === 'succeeded' && e.backend === 'vertex'));
  });

  test('a service-account file (GOOGLE_APPLICATION_CREDENTIALS): every image saved, no key material anywhere in the output', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const sa = join(scratch.dir, 'sa.json');
    await writeFile(sa, JSON.stringify({ type: 'service_account', project_id: 'cli-project', private_key_id: 'c1', private_key: pem, client_email: 'c@cli-project.iam.gserviceaccount.com', client_id: '3', token_uri: 'http://127.0.0.1:9/token' }));
    const emu = await emulator({ models: [DEFAULT_MODEL], vertex: { serviceAccountKeys: [pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()] } });
    try {
      const r = await runCli(['generate', prompts, '--vertex', '--base-url', emu.url, '--location', 'global', '--out', 'out-sa'], {
        cwd: scratch.dir,
        env: { GOOGLE_APPLICATION_CREDENTIALS: sa },
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, r.stderr);
      // The preflight's publisher-model read and the three generate calls, each with the signed JWT.
      assert.equal(emu.counters.byRoute.vertexModelsGet, 1);
      assert.equal(emu.counters.byRoute['vertex.generateContent'], 3);
      assert.equal(emu.vertex.jwtAccepted, 4);
      const out = join(scratch.dir, 'out-sa');
      const written = await Promise.all((await filesUnder(out)).map((f) => readFile(join(out, f), 'latin1')));
      assert.doesNotMatch([r.stdout, r.stderr, ...written].join('\n'), /PRIVATE KEY|eyJhbGciOi/);
    } finally {
      await emu.close();
    }
  });

  test('no credentials at all: exit 2 naming the three ways, nothing sent', async () => {
    const r = await runCli(['generate', prompts, '--vertex', '--out', 'out-none'], { cwd: scratch.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /GOOGLE_APPLICATION_CREDENTIALS/);
    assert.match(r.stderr, /gcloud auth application-default login/);
    assert.match(r.stderr, /GOOGLE_API_KEY/);
  });

  test('--vertex --mode batch and --project without --vertex are input errors (exit 2)', async () => {
    const batch = await runCli(['generate', prompts, '--vertex', '--mode', 'batch', '--emulator'], { cwd: scratch.dir });
    assert.equal(batch.code, 2);
    assert.match(batch.stderr, /batch mode is not available on Vertex AI/);
    const project = await runCli(['generate', prompts, '--project', 'p', '--emulator'], { cwd: scratch.dir });
    assert.equal(project.code, 2);
    assert.match(project.stderr, /add --vertex/);
  });

  test('preflight on Vertex: a model the publisher-model endpoint does not know stops the run with exit 2 before any generate', async () => {
    const r = await runCli(['generate', prompts, '--emulator', '--vertex', '--model', 'gemini-no-such-image', '--out', 'out-unknown', '--json'], { cwd: scratch.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /gemini-no-such-image/);
    assert.doesNotMatch(r.stdout, /"type":"started"/, 'no generate request was started');
  });
});
