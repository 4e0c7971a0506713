import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GeminiClient } from '../../src/gemini/client.ts';
import { batchCounts, cancelRemoteBatch, createBatch, deleteBatch, getBatch, isTerminal, listRemoteBatches } from '../../src/gemini/batches.ts';
import { ApiError, AuthError } from '../../src/errors.ts';
import type { BatchOperation } from '../../src/gemini/wire.ts';

interface Call {
  method: string;
  path: string;
  body: unknown;
}

function stub(answer: (c: Call) => Response) {
  const calls: Call[] = [];
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    const u = new URL(String(input));
    const call = { method: init?.method ?? 'GET', path: `${u.pathname}${u.search}`, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined };
    calls.push(call);
    return answer(call);
  }) as typeof fetch;
  return { calls, client: new GeminiClient({ apiKey: 'ib-batch-KEY-99', baseUrl: 'http://h.test', env: {}, fetch: f }) };
}

const op = (state: string, stats: Record<string, string> = {}): BatchOperation =>
  ({ name: 'batches/b1', metadata: { name: 'batches/b1', state, batchStats: stats } }) as BatchOperation;

describe('batch helpers', () => {
  test('isTerminal: succeeded, failed, cancelled, expired (wire or SDK spelling)', () => {
    for (const s of ['BATCH_STATE_SUCCEEDED', 'BATCH_STATE_FAILED', 'BATCH_STATE_CANCELLED', 'BATCH_STATE_EXPIRED', 'JOB_STATE_SUCCEEDED']) {
      assert.equal(isTerminal(s), true, s);
    }
    for (const s of ['BATCH_STATE_PENDING', 'BATCH_STATE_RUNNING', 'BATCH_STATE_UNSPECIFIED', 'JOB_STATE_PENDING', '', undefined]) {
      assert.equal(isTerminal(s), false, String(s));
    }
  });

  test('batchCounts parses int64 strings and reads omitted (zero) fields as 0', () => {
    assert.deepEqual(batchCounts(op('BATCH_STATE_PENDING', { requestCount: '3', pendingRequestCount: '3' })), {
      total: 3,
      pending: 3,
      succeeded: 0,
      failed: 0,
    });
    assert.deepEqual(batchCounts(op('BATCH_STATE_SUCCEEDED', { requestCount: '10', successfulRequestCount: '9', failedRequestCount: '1' })), {
      total: 10,
      pending: 0,
      succeeded: 9,
      failed: 1,
    });
    assert.deepEqual(batchCounts({ name: 'batches/x' } as BatchOperation), { total: 0, pending: 0, succeeded: 0, failed: 0 });
    assert.equal(batchCounts(op('X', { requestCount: 'nonsense' })).total, 0);
  });
});

describe('batch calls', () => {
  test('create with a file: POST models/{m}:batchGenerateContent {batch:{displayName,inputConfig:{fileName}}}', async () => {
    const s = stub(() => Response.json(op('BATCH_STATE_PENDING', { requestCount: '2' })));
    const created = await createBatch(s.client, 'gemini-2.5-flash-image', { fileName: 'files/in1' }, { displayName: 'job' });
    assert.equal(created.name, 'batches/b1');
    assert.deepEqual(s.calls, [
      {
        method: 'POST',
        path: '/v1beta/models/gemini-2.5-flash-image:batchGenerateContent',
        body: { batch: { displayName: 'job', inputConfig: { fileName: 'files/in1' } } },
      },
    ]);
  });

  test('create inline: the double requests nesting, metadata kept', async () => {
    const s = stub(() => Response.json(op('BATCH_STATE_PENDING')));
    const requests = [{ request: { contents: [{ role: 'user' as const, parts: [{ text: 'fox' }] }] }, metadata: { key: 'k1' } }];
    await createBatch(s.client, 'models/m', { requests });
    assert.deepEqual(s.calls[0]?.body, { batch: { inputConfig: { requests: { requests } } } });
  });

  test('get, cancel, delete hit batches/{id}; list follows pages', async () => {
    const s = stub((c) => {
      if (c.path.startsWith('/v1beta/batches?') && !c.path.includes('pageToken')) return Response.json({ operations: [op('A')], nextPageToken: 't2' });
      if (c.path.startsWith('/v1beta/batches?')) return Response.json({ operations: [op('B')] });
      if (c.path.endsWith(':cancel') || c.method === 'DELETE') return Response.json({});
      return Response.json(op('BATCH_STATE_RUNNING'));
    });
    assert.equal((await getBatch(s.client, 'batches/b1')).metadata.state, 'BATCH_STATE_RUNNING');
    await cancelRemoteBatch(s.client, 'batches/b1');
    await deleteBatch(s.client, 'b1');
    const states: string[] = [];
    for await (const o of listRemoteBatches(s.client, { pageSize: 1 })) states.push(o.metadata.state);
    assert.deepEqual(states, ['A', 'B']);
    assert.deepEqual(
      s.calls.map((c) => `${c.method} ${c.path}`),
      ['GET /v1beta/batches/b1', 'POST /v1beta/batches/b1:cancel', 'DELETE /v1beta/batches/b1', 'GET /v1beta/batches?pageSize=1', 'GET /v1beta/batches?pageSize=1&pageToken=t2'],
    );
    assert.deepEqual(s.calls[1]?.body, {});
  });

  test('errors are typed: 429 → ApiError with retryAfterMs, bad key → AuthError', async () => {
    const quota = stub(() =>
      Response.json(
        {
          error: {
            code: 429,
            status: 'RESOURCE_EXHAUSTED',
            message: 'enqueued tokens',
            details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' }],
          },
        },
        { status: 429 },
      ),
    );
    await assert.rejects(createBatch(quota.client, 'm', { fileName: 'files/a' }), (e: unknown) => e instanceof ApiError && e.retryAfterMs === 30_000 && e.reason === 'quota');
    const badKey = stub(() =>
      Response.json(
        {
          error: {
            code: 400,
            status: 'INVALID_ARGUMENT',
            message: 'API key not valid. Please pass a valid API key.',
            details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
          },
        },
        { status: 400 },
      ),
    );
    await assert.rejects(getBatch(badKey.client, 'batches/b1'), (e: unknown) => e instanceof AuthError && e.errorReason === 'API_KEY_INVALID');
  });
});
