// Properties of the pool over random job sets, outcome scripts, latencies and limits (virtual time).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../../src/internal/clock.ts';
import { runPool } from '../../src/scheduler/index.ts';
import type { AttemptContext, PoolEvent, Settled } from '../../src/scheduler/index.ts';
import type { Outcome } from '../../src/types.ts';
import { AuthError } from '../../src/errors.ts';
import { collect, drive, seeded } from '../helpers/sim.ts';

const IMAGE: Outcome = { kind: 'image', images: [], text: [] };
const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(IMAGE) },
  fc.constant<Outcome>({ kind: 'no_image', text: ['here you go'] }),
  fc.constant<Outcome>({ kind: 'blocked', blockReason: 'IMAGE_SAFETY' }),
  fc.constant<Outcome>({ kind: 'error', reason: 'server', httpStatus: 500, message: 'internal' }),
  fc.constant<Outcome>({ kind: 'error', reason: 'server', httpStatus: 503, message: 'overloaded' }),
  fc.constant<Outcome>({ kind: 'error', reason: 'network', message: 'reset' }),
  fc.constant<Outcome>({ kind: 'error', reason: 'timeout', message: 'deadline' }),
  fc.constant<Outcome>({ kind: 'error', reason: 'invalid_request', httpStatus: 400, message: 'bad' }),
  fc.integer({ min: 1, max: 90_000 }).map<Outcome>((retryAfterMs) => ({
    kind: 'error',
    reason: 'quota',
    httpStatus: 429,
    message: 'quota',
    retryAfterMs,
    quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
  })),
);

interface Step {
  outcome: Outcome;
  latencyMs: number;
}

const scenarioArb = fc.record({
  scripts: fc.array(fc.array(fc.record({ outcome: outcomeArb, latencyMs: fc.integer({ min: 1, max: 8000 }) }), { minLength: 1, maxLength: 4 }), {
    minLength: 1,
    maxLength: 40,
  }),
  concurrency: fc.integer({ min: 1, max: 6 }),
  adaptive: fc.boolean(),
  requestsPerMinute: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  rateBurst: fc.integer({ min: 0, max: 2 }),
  ordered: fc.boolean(),
  maxBuffered: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer(),
});

type Scenario = Omit<ScenarioValue, 'scripts'> & { scripts: Step[][] };
type ScenarioValue = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

interface Trace {
  starts: { job: number; at: number }[];
  pauses: { at: number; until: number }[];
  limitViolations: string[];
  results: Settled<number>[];
  error?: unknown;
}

async function play(s: Scenario): Promise<Trace> {
  const clock = new FakeClock();
  const trace: Trace = { starts: [], pauses: [], limitViolations: [], results: [] };
  let inFlight = 0;
  let limit = Infinity;
  const onEvent = (e: PoolEvent<number>) => {
    if (e.type === 'concurrency') limit = e.limit;
    if (e.type === 'paused') trace.pauses.push({ at: e.at, until: e.untilMs });
  };
  const attempt = async (job: number, ctx: AttemptContext): Promise<Outcome> => {
    if (inFlight >= limit || inFlight >= s.concurrency) trace.limitViolations.push(`${inFlight} in flight, limit ${limit} at ${clock.now()}`);
    inFlight++;
    trace.starts.push({ job, at: clock.now() });
    const script = s.scripts[job]!;
    const step = script[ctx.attempt - 1] ?? { outcome: IMAGE, latencyMs: 500 };
    try {
      await clock.sleep(step.latencyMs, ctx.signal);
      return step.outcome;
    } finally {
      inFlight--;
    }
  };
  const { scripts: _scripts, seed, ...limits } = s;
  const jobs = s.scripts.map((_, i) => i);
  try {
    trace.results = await drive(clock, collect(runPool(jobs, { ...limits, attempt, onEvent, clock, random: seeded(seed) })));
  } catch (e) {
    trace.error = e;
  }
  return trace;
}

function maxStartsInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs - 1e-6) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('runPool properties', () => {
  test('in-flight ≤ limit, quota windows respected, every job ends exactly once, nothing starts in a pause', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const t = await play(s);
        assert.equal(t.error, undefined, `the run failed: ${String(t.error)}`);
        assert.deepEqual(t.limitViolations, []);
        const ended = t.results.map((r) => r.job);
        assert.deepEqual(
          [...ended].sort((a, b) => a - b),
          s.scripts.map((_, i) => i),
        );
        if (s.ordered) assert.deepEqual(ended, [...ended].sort((a, b) => a - b));
        for (const r of t.results) {
          assert.ok(r.attempts >= 1 && r.attempts <= 6);
          assert.equal(r.attempts, t.starts.filter((x) => x.job === r.job).length);
          assert.ok(r.decision === 'done' ? r.outcome.kind === 'image' : r.outcome.kind !== 'image');
        }
        if (s.requestsPerMinute !== undefined) {
          const n = maxStartsInWindow(
            t.starts.map((x) => x.at),
            60_000,
          );
          assert.ok(n <= s.requestsPerMinute + s.rateBurst, `${n} starts in a minute, quota ${s.requestsPerMinute} + burst ${s.rateBurst}`);
        }
        for (const p of t.pauses) {
          const inside = t.starts.filter((x) => x.at >= p.at && x.at < p.until);
          assert.deepEqual(inside, [], `started inside the pause ${p.at}..${p.until}`);
        }
      }),
      { seed: 20_240_917, numRuns: 120 },
    );
  });

  test('a bad key anywhere ends the run with AuthError; no job is yielded twice and no attempt starts after it', async () => {
    const authArb = fc.record({ outcome: fc.constant<Outcome>({ kind: 'error', reason: 'auth', httpStatus: 400, message: 'API key not valid' }), latencyMs: fc.integer({ min: 1, max: 3000 }) });
    const withAuth = fc
      .tuple(scenarioArb, fc.nat(), authArb)
      .map(([s, at, auth]) => {
        const scripts = s.scripts.map((x) => [...x]);
        const job = at % scripts.length;
        scripts[job] = [auth];
        return { ...s, scripts, badJob: job };
      });
    await fc.assert(
      fc.asyncProperty(withAuth, async (s) => {
        const t = await play(s);
        const badStarted = t.starts.find((x) => x.job === s.badJob);
        if (!badStarted) return; // an earlier stop (none here) or never reached: nothing to check
        assert.ok(t.error instanceof AuthError, `expected AuthError, got ${String(t.error)}`);
        const ended = t.results.map((r) => r.job);
        assert.equal(new Set(ended).size, ended.length);
        assert.ok(!ended.includes(s.badJob));
        const stopAt = badStarted.at + s.scripts[s.badJob]![0]!.latencyMs;
        assert.deepEqual(
          t.starts.filter((x) => x.at > stopAt),
          [],
          'nothing starts once the bad key is known',
        );
      }),
      { seed: 7, numRuns: 60 },
    );
  });
});
