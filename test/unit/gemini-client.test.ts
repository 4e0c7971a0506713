import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { GeminiClient } from '../../src/gemini/client.ts';
import { ApiError, AuthError, OptionError, PermissionError } from '../../src/errors.ts';
import type { GenerateContentRequest } from '../../src/gemini/wire.ts';

const KEY = 'ib-test-KEY-7f3a9c51e2';
const REQ: GenerateContentRequest = { contents: [{ role: 'user', parts: [{ text: 'a fox' }] }] };
const PNG64 = Buffer.from('\x89PNG fake').toString('base64');
const OK_BODY = JSON.stringify({
  candidates: [{ content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: PNG64 } }] }, finishReason: 'STOP' }],
});

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A tiny loopback server; every test route is a handler keyed by path prefix. */
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { url, seen, close };
}

function client(baseUrl: string, extra: Partial<ConstructorParameters<typeof GeminiClient>[0]> = {}) {
  return new GeminiClient({ apiKey: KEY, baseUrl, env: {}, ...extra });
}

const timers = new Set<ReturnType<typeof setInterval>>();
after(() => {
  for (const t of timers) clearInterval(t);
});

describe('GeminiClient.generateContent over HTTP', { timeout: 10_000 }, () => {
  test('sends one POST to {base}/v1beta/models/{model}:generateContent with the key header only', async () => {
    const s = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(OK_BODY));
    try {
      const c = client(`${s.url}/`);
      const o = await c.generateContent('models/gemini-2.5-flash-image', REQ);
      assert.equal(o.kind, 'image');
      await c.generateContent('gemini-2.5-flash-image', REQ);
      assert.equal(s.seen.length, 2);
      for (const r of s.seen) {
        assert.equal(r.method, 'POST');
        assert.equal(r.url, '/v1beta/models/gemini-2.5-flash-image:generateContent');
        assert.equal(r.headers['x-goog-api-key'], KEY);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['x-server-timeout'], '120', 'the server learns our per-attempt deadline');
        assert.deepEqual(JSON.parse(r.body), REQ);
        assert.ok(!r.url.includes(KEY));
      }
    } finally {
      await s.close();
    }
  });

  test('a 429 answer becomes a quota outcome with retryAfterMs (never thrown, never retried)', async () => {
    const body = JSON.stringify({
      error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'slow down', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' }] },
    });
    const s = await serve((_req, res) => res.writeHead(429, { 'content-type': 'application/json' }).end(body));
    try {
      const o = await client(s.url).generateContent('m', REQ);
      assert.equal(o.kind, 'error');
      if (o.kind === 'error') {
        assert.equal(o.reason, 'quota');
        assert.equal(o.retryAfterMs, 3000);
      }
      assert.equal(s.seen.length, 1);
    } finally {
      await s.close();
    }
  });

  test('a hung server → timeout', async () => {
    const s = await serve(() => {});
    try {
      const o = await client(s.url, { timeoutMs: 300 }).generateContent('m', REQ);
      assert.equal(o.kind, 'error');
      if (o.kind === 'error') assert.equal(o.reason, 'timeout');
    } finally {
      await s.close();
    }
  });

  test('a body trickling a byte every 100 ms is cut at the deadline → timeout', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const t = setInterval(() => res.write(' '), 100);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    });
    try {
      const o = await client(s.url).generateContent('m', REQ, { timeoutMs: 300 });
      assert.equal(o.kind, 'error');
      if (o.kind === 'error') assert.equal(o.reason, 'timeout');
    } finally {
      await s.close();
    }
  });

  test('connection refused → network', async () => {
    const s = await serve(() => {});
    await s.close();
    const o = await client(s.url).generateContent('m', REQ);
    assert.equal(o.kind, 'error');
    if (o.kind === 'error') {
      assert.equal(o.reason, 'network');
      assert.match(o.message, /ECONNREFUSED|fetch failed/);
    }
  });

  test('a truncated 200 body (connection dropped) → network', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(OK_BODY.length) });
      res.write(OK_BODY.slice(0, 40));
      setTimeout(() => res.destroy(), 20);
    });
    try {
      const o = await client(s.url).generateContent('m', REQ);
      assert.equal(o.kind, 'error');
      if (o.kind === 'error') assert.equal(o.reason, 'network');
    } finally {
      await s.close();
    }
  });

  test('a complete but unparsable 200 body → network', async () => {
    const s = await serve((_req, res) => res.writeHead(200).end(OK_BODY.slice(0, 40)));
    try {
      const o = await client(s.url).generateContent('m', REQ);
      assert.equal(o.kind === 'error' && o.reason, 'network');
    } finally {
      await s.close();
    }
  });

  test('caller abort → cancelled (mid-request and before sending)', async () => {
    const s = await serve(() => {});
    try {
      const c = client(s.url, { timeoutMs: 60_000 });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const o = await c.generateContent('m', REQ, { signal: ac.signal });
      assert.equal(o.kind === 'error' && o.reason, 'cancelled');
      const before = s.seen.length;
      const o2 = await c.generateContent('m', REQ, { signal: AbortSignal.abort() });
      assert.equal(o2.kind === 'error' && o2.reason, 'cancelled');
      assert.equal(s.seen.length, before, 'nothing sent after an early abort');
    } finally {
      await s.close();
    }
  });

  test('the timeout holds even when an injected fetch ignores the signal', async () => {
    const stuck = (() => new Promise<Response>(() => {})) as typeof fetch;
    const o = await client('http://127.0.0.1:9', { fetch: stuck, timeoutMs: 100 }).generateContent('m', REQ);
    assert.equal(o.kind === 'error' && o.reason, 'timeout');
  });
});

describe('the API key never leaks', { timeout: 10_000 }, () => {
  test('not in any outcome, error, message or inspected client, even when the server echoes it', async () => {
    const echo = JSON.stringify({ error: { code: 400, status: 'INVALID_ARGUMENT', message: `API key not valid: ${KEY}` } });
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/v1beta/models/echo-ok')) {
        const parts = [{ text: `your key is ${KEY}` }];
        return res.writeHead(200).end(JSON.stringify({ candidates: [{ content: { parts }, finishReason: 'NO_IMAGE', finishMessage: KEY }] }));
      }
      if (req.url?.startsWith('/v1beta/models/echo-bad')) return res.writeHead(200).end(`not json ${KEY}`);
      res.writeHead(400, { 'content-type': 'application/json' }).end(echo);
    });
    const produced: string[] = [];
    const c = client(s.url, { timeoutMs: 2000 });
    try {
      produced.push(inspect(c, { showHidden: true, depth: 5 }), JSON.stringify(c));
      for (const model of ['echo-ok', 'echo-bad', 'echo-err']) produced.push(JSON.stringify(await c.generateContent(model, REQ)));
      const errors: unknown[] = [];
      await c.requestJson('GET', 'files/x').catch((e: unknown) => errors.push(e));
      await c.ensureOk(await c.raw('GET', 'v1beta/files/x')).catch((e: unknown) => errors.push(e));
      assert.equal(errors.length, 2);
      assert.ok(errors[0] instanceof AuthError);
      for (const e of errors) produced.push(String(e), (e as Error).message, inspect(e), JSON.stringify(e));
    } finally {
      await s.close();
    }
    const refused = await c.generateContent('m', REQ);
    produced.push(JSON.stringify(refused));
    await c.requestJson('GET', 'batches').catch((e: unknown) => produced.push(String(e), inspect(e)));
    assert.ok(s.seen.every((r) => r.headers['x-goog-api-key'] === KEY), 'the key is sent in its header');
    for (const text of produced) assert.ok(!text.includes(KEY), `key leaked in: ${text.slice(0, 200)}`);
    assert.ok(produced.some((t) => t.includes('[redacted]')), 'server echoes were redacted, not dropped');
  });

  test('a key with bad characters is rejected without echoing it', () => {
    const bad = 'ib secret with spaces';
    assert.throws(
      () => new GeminiClient({ apiKey: bad, env: {} }),
      (e: unknown) => e instanceof AuthError && !e.message.includes(bad),
    );
  });

  test('redirects to another origin drop the key header', async () => {
    const calls: { url: string; key: string | null }[] = [];
    const stub = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      calls.push({ url, key: new Headers(init?.headers).get('x-goog-api-key') });
      if (url.startsWith('http://api.test/')) return new Response(null, { status: 302, headers: { location: 'http://cdn.test/blob' } });
      return new Response('bytes');
    }) as typeof fetch;
    const res = await client('http://api.test', { fetch: stub }).raw('GET', 'v1beta/files/a:download');
    assert.equal(await res.text(), 'bytes');
    assert.deepEqual(calls, [
      { url: 'http://api.test/v1beta/files/a:download', key: KEY },
      { url: 'http://cdn.test/blob', key: null },
    ]);
  });
});

describe('configuration', { timeout: 10_000 }, () => {
  const capture = () => {
    const urls: string[] = [];
    const keys: (string | null)[] = [];
    const f = (async (input: string | URL | Request, init?: RequestInit) => {
      urls.push(String(input));
      keys.push(new Headers(init?.headers).get('x-goog-api-key'));
      return new Response(OK_BODY, { status: 200 });
    }) as typeof fetch;
    return { urls, keys, f };
  };

  test('key precedence: option > GEMINI_API_KEY > GOOGLE_API_KEY; missing → AuthError', async () => {
    const env = { GEMINI_API_KEY: 'gemini-env-key', GOOGLE_API_KEY: 'google-env-key' };
    for (const [opts, expected] of [
      [{ apiKey: 'option-key', env }, 'option-key'],
      [{ env }, 'gemini-env-key'],
      [{ env: { GOOGLE_API_KEY: 'google-env-key', GEMINI_API_KEY: '' } }, 'google-env-key'],
    ] as const) {
      const cap = capture();
      await new GeminiClient({ ...opts, fetch: cap.f }).generateContent('m', REQ);
      assert.equal(cap.keys[0], expected);
    }
    assert.throws(() => new GeminiClient({ env: {} }), (e: unknown) => e instanceof AuthError && /GEMINI_API_KEY/.test(e.message));
  });

  test('base URL precedence: option > GEMINI_BASE_URL > GOOGLE_GEMINI_BASE_URL > Google; apiVersion applies', async () => {
    const env = { GEMINI_API_KEY: 'k-env-1234', GEMINI_BASE_URL: 'http://gemini-env.test', GOOGLE_GEMINI_BASE_URL: 'http://google-env.test' };
    assert.equal(new GeminiClient({ env, baseUrl: 'http://opt.test/' }).baseUrl, 'http://opt.test');
    assert.equal(new GeminiClient({ env }).baseUrl, 'http://gemini-env.test');
    assert.equal(new GeminiClient({ env: { ...env, GEMINI_BASE_URL: undefined } }).baseUrl, 'http://google-env.test');
    assert.equal(new GeminiClient({ env: { GEMINI_API_KEY: 'k-env-1234' } }).baseUrl, 'https://generativelanguage.googleapis.com');
    const cap = capture();
    await new GeminiClient({ env, apiVersion: 'v1', fetch: cap.f }).generateContent('models/x', REQ);
    assert.equal(cap.urls[0], 'http://gemini-env.test/v1/models/x:generateContent');
  });

  test('bad options are rejected with the option named', () => {
    assert.throws(() => client('ftp://x'), (e: unknown) => e instanceof OptionError && e.option === 'baseUrl');
    assert.throws(() => client('http://x', { timeoutMs: 0 }), (e: unknown) => e instanceof OptionError && e.option === 'timeoutMs');
    assert.throws(() => client('http://x', { apiVersion: 'v1/../x' }), (e: unknown) => e instanceof OptionError && e.option === 'apiVersion');
  });

  test("model names: prefix handled, '..', '?', '&' rejected before anything is sent", async () => {
    const cap = capture();
    const c = client('http://h.test', { fetch: cap.f });
    for (const bad of ['../files/x', 'm?key=1', 'a&b', '', 'models/']) {
      await assert.rejects(c.generateContent(bad, REQ), (e: unknown) => e instanceof OptionError && e.option === 'model');
    }
    assert.equal(cap.urls.length, 0);
  });

  test('raw(): an absolute upload URL keeps path and query on our origin', async () => {
    const cap = capture();
    await client('http://127.0.0.1:5555/base', { fetch: cap.f }).raw('POST', 'https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=u1&upload_protocol=resumable');
    assert.equal(cap.urls[0], 'http://127.0.0.1:5555/upload/v1beta/files?upload_id=u1&upload_protocol=resumable');
  });
});

describe('requestJson errors', { timeout: 10_000 }, () => {
  const answerWith = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers })) as typeof fetch;

  test('429 → ApiError with httpStatus, status, retryAfterMs and reason', async () => {
    const f = answerWith(429, { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Please retry in 2s.' } });
    await assert.rejects(client('http://h.test', { fetch: f }).requestJson('GET', 'batches/x'), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.httpStatus, 429);
      assert.equal(e.status, 'RESOURCE_EXHAUSTED');
      assert.equal(e.retryAfterMs, 2000);
      assert.equal(e.reason, 'quota');
      return true;
    });
  });

  test('403 → PermissionError, 401 → AuthError, 404 → ApiError not_found, empty 200 → {}', async () => {
    const perm = answerWith(403, { error: { code: 403, status: 'PERMISSION_DENIED', message: 'denied' } });
    await assert.rejects(client('http://h.test', { fetch: perm }).requestJson('GET', 'files'), PermissionError);
    await assert.rejects(client('http://h.test', { fetch: answerWith(401, 'nope') }).requestJson('GET', 'files'), AuthError);
    const nf = answerWith(404, { error: { code: 404, status: 'NOT_FOUND', message: 'gone' } });
    await assert.rejects(client('http://h.test', { fetch: nf }).requestJson('GET', 'files/a'), (e: unknown) => e instanceof ApiError && e.reason === 'not_found');
    const ok = await client('http://h.test', { fetch: answerWith(200, '') }).requestJson('DELETE', 'files/a');
    assert.deepEqual(ok.body, {});
  });

  test('network failure → ApiError reason network; caller abort → the abort reason', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    }) as typeof fetch;
    await assert.rejects(client('http://h.test', { fetch: failing }).requestJson('GET', 'files'), (e: unknown) => {
      return e instanceof ApiError && e.httpStatus === 0 && e.reason === 'network' && /ECONNREFUSED/.test(e.message);
    });
    const reason = new Error('user pressed ctrl-c');
    await assert.rejects(client('http://h.test', { fetch: failing }).requestJson('GET', 'files', { signal: AbortSignal.abort(reason) }), (e: unknown) => e === reason);
  });
});
