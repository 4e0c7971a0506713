import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ProgressDisplay, formatMs, summaryLines } from '../../src/cli/progress.ts';
import { plainLine } from '../../src/cli/progress-plain.ts';
import type { ProgressOptions } from '../../src/cli/progress.ts';
import type { RunEvent, RunSummary } from '../../src/types.ts';

/** A writable that records what was written, with the terminal traits the display looks at. */
class FakeStream extends Writable {
  chunks: string[] = [];
  constructor(
    public isTTY = false,
    public columns = 100,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

const summary: RunSummary = {
  total: 4,
  succeeded: 2,
  failed: 1,
  skipped: 1,
  cached: 0,
  byReason: { blocked: 1 },
  attempts: 4,
  wallMs: 5000,
  imagesPerMinute: 24,
  averageImageBytes: 1000,
  costUsd: 0.078,
};

const events: RunEvent[] = [
  { type: 'skipped', key: 'k0', index: 0, why: 'done', at: 1000 },
  { type: 'concurrency', limit: 4, inFlight: 0, at: 1000 },
  { type: 'started', key: 'k3', index: 3, attempt: 1, at: 1000 },
  { type: 'started', key: 'k7', index: 7, attempt: 1, at: 1000 },
  { type: 'retried', key: 'k3', index: 3, attempt: 1, reason: 'server', delayMs: 500, at: 1100 },
  { type: 'paused', untilMs: 38_100, reason: 'quota: per-minute limit', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel', at: 1100 },
  { type: 'resumed', at: 38_100 },
  { type: 'started', key: 'k3', index: 3, attempt: 2, at: 38_200 },
  { type: 'succeeded', key: 'k3', index: 3, files: ['0003-a-steaming-cup.png'], attempts: 2, latencyMs: 1234, costUsd: 0.039, at: 39_000 },
  { type: 'failed', key: 'k7', index: 7, reason: 'blocked', message: 'IMAGE_SAFETY\nthe image was blocked', attempts: 1, at: 39_100 },
  { type: 'succeeded', key: 'k8', index: 8, files: ['sub/0008-b.png', 'sub/0008-b-1.png'], attempts: 0, latencyMs: 5, cached: true, at: 39_200 },
  { type: 'done', summary, at: 40_000 },
];

function run(opts: Partial<ProgressOptions>, stream = new FakeStream()): FakeStream {
  let t = 0;
  const d = new ProgressDisplay({ stream, now: () => (t += 1000), redrawMs: 0, ...opts });
  for (const e of events) d.onEvent(e);
  d.stop();
  return stream;
}

describe('plain mode', () => {
  test('one line per finished job plus retry, paused/resumed lines and a summary', () => {
    const lines = run({ mode: 'plain', noColor: true }).text.trimEnd().split('\n');
    assert.equal(lines[0], 'retry 0003  attempt 1 server; again in 500ms');
    assert.equal(lines[1], 'paused 37.0s: quota: per-minute limit [GenerateRequestsPerMinutePerProjectPerModel]');
    assert.equal(lines[2], 'resumed');
    assert.equal(lines[3], 'ok   0003-a-steaming-cup.png  1.2s  attempts 2  $0.0390');
    assert.equal(lines[4], 'FAIL 0007  blocked: IMAGE_SAFETY the image was blocked  attempts 1');
    assert.equal(lines[5], 'ok   0008-b.png (+1)  5ms  attempts 0  cached');
    assert.match(lines[6] ?? '', /^done: 2\/4 succeeded/);
    assert.ok(lines.some((l) => /failed\s+1 \(blocked 1\)/.test(l)));
    assert.ok(lines.some((l) => /cost\s+\$0\.0780/.test(l)));
  });

  test('auto mode picks plain for a non-TTY stream', () => {
    const out = run({ noColor: true }).text;
    assert.match(out, /^retry 0003/);
    assert.ok(!out.includes('\r'));
  });
});

describe('json mode', () => {
  test('one JSON object per line, exactly the events, in order', () => {
    const lines = run({ mode: 'json' }).text.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), events);
  });

  test('finish() without a streamed done event emits one; messages stay off the JSON stream', () => {
    const stream = new FakeStream();
    const side = new FakeStream();
    const d = new ProgressDisplay({ stream, mode: 'json', messageStream: side, now: () => 42 });
    d.onEvent({ type: 'resumed', at: 1 });
    d.message('a warning');
    d.finish(summary);
    d.finish(summary);
    const lines = stream.text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, [{ type: 'resumed', at: 1 }, { type: 'done', summary, at: 42 }]);
    assert.equal(side.text, 'a warning\n');
  });
});

describe('tty mode', () => {
  const ESC = '\x1b';

  test('NO_COLOR: no escape codes at all, bar redrawn with carriage returns', () => {
    const out = run({ mode: 'tty', noColor: true }, new FakeStream(true, 120)).text;
    assert.ok(!out.includes(ESC), JSON.stringify(out.slice(0, 200)));
    assert.ok(out.includes('\r'));
    assert.match(out, /PAUSED \d/);
    assert.match(out, /done: 2\/4 succeeded/);
  });

  test('noColor defaults to the NO_COLOR environment variable', () => {
    const saved = process.env.NO_COLOR;
    try {
      process.env.NO_COLOR = '1';
      assert.ok(!run({ mode: 'tty' }, new FakeStream(true)).text.includes(ESC));
      delete process.env.NO_COLOR;
      assert.ok(run({ mode: 'tty' }, new FakeStream(true)).text.includes(`${ESC}[32m`));
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });

  test('wide line shows done/failed/retrying/in flight, concurrency, rate, ETA and spend', () => {
    const stream = new FakeStream(true, 140);
    let t = 0;
    const d = new ProgressDisplay({ stream, mode: 'tty', noColor: true, total: 10, now: () => t, redrawMs: 0 });
    d.onEvent({ type: 'concurrency', limit: 4, inFlight: 0, at: 0 });
    for (const k of ['a', 'b', 'c']) d.onEvent({ type: 'started', key: k, index: 0, attempt: 1, at: 0 });
    d.onEvent({ type: 'retried', key: 'c', index: 2, attempt: 1, reason: 'quota', delayMs: 100, at: 0 });
    t = 60_000;
    d.onEvent({ type: 'succeeded', key: 'a', index: 0, files: ['0000-a.png'], attempts: 1, latencyMs: 900, costUsd: 0.039, at: 0 });
    const last = stream.chunks.at(-1) ?? '';
    assert.ok(last.startsWith('\r'));
    assert.match(last, /^\r\[###-+\] 1\/10 ok 1 fail 0 retry 1 run 1\/4 1\.0 img\/min \$0\.0390 ETA 9m00s/);
    assert.ok(last.length <= 140);
    d.stop();
  });

  test('narrow terminal gets a compact line that never wraps', () => {
    const stream = new FakeStream(true, 40);
    const d = new ProgressDisplay({ stream, mode: 'tty', noColor: true, total: 100, now: () => 0, redrawMs: 0 });
    d.onEvent({ type: 'started', key: 'a', index: 0, attempt: 1, at: 0 });
    d.onEvent({ type: 'failed', key: 'a', index: 0, reason: 'server', message: 'x', attempts: 3, at: 0 });
    const last = (stream.chunks.at(-1) ?? '').replace(/^\r/, '').trimEnd();
    assert.match(last, /^1\/100 ok0 F1 r0 i0 \$0\.0000 --$/);
    assert.ok(!last.includes('retry'));
    assert.ok(last.length < 40, last);
    d.stop();
  });

  test('a job without a known price makes the spend "+ unknown" (wide) or "+?" (compact), and "cost unknown" / "$?" alone', () => {
    const line = (columns: number, priced: boolean) => {
      const stream = new FakeStream(true, columns);
      const d = new ProgressDisplay({ stream, mode: 'tty', noColor: true, total: 10, now: () => 0, redrawMs: 0 });
      if (priced) d.onEvent({ type: 'succeeded', key: 'a', index: 0, files: ['0000-a.png'], attempts: 1, latencyMs: 900, costUsd: 0.039, at: 0 });
      d.onEvent({ type: 'succeeded', key: 'b', index: 1, files: ['0001-b.png'], attempts: 1, latencyMs: 900, costUnknown: true, at: 0 });
      const last = stream.chunks.at(-1) ?? '';
      d.stop();
      return last;
    };
    assert.match(line(140, true), / \$0\.0390 \+ unknown ETA/);
    assert.match(line(140, false), / cost unknown ETA/);
    assert.match(line(40, true), / \$0\.0390 \+\? /);
    assert.match(line(40, false), / \$\? /);
    for (const columns of [40, 140]) assert.doesNotMatch(line(columns, false), /\$0\.0000/);
  });

  test('message() prints above the bar and the bar is redrawn', () => {
    const stream = new FakeStream(true, 100);
    const d = new ProgressDisplay({ stream, mode: 'tty', noColor: true, total: 2, now: () => 0, redrawMs: 0 });
    d.onEvent({ type: 'started', key: 'a', index: 0, attempt: 1, at: 0 });
    stream.chunks = [];
    d.message('warning: slow');
    const [cleared, redraw] = stream.chunks;
    assert.match(cleared ?? '', /^\r +\rwarning: slow\n$/);
    assert.match(redraw ?? '', /^\r\[-{20}\] 0\/2 ok 0 fail 0 retry 0 run 1 /);
    d.stop();
  });

  test('events are throttled to redrawMs', () => {
    const stream = new FakeStream(true, 100);
    const d = new ProgressDisplay({ stream, mode: 'tty', noColor: true, now: () => 0, redrawMs: 10_000 });
    for (let i = 0; i < 50; i++) d.onEvent({ type: 'started', key: `k${i}`, index: i, attempt: 1, at: 0 });
    assert.equal(stream.chunks.length, 1);
    d.stop();
  });
});

test('plain line and summary: an unknown price is "unknown" (with its images and model), never $0; a mixed run shows both parts', () => {
  assert.equal(plainLine({ type: 'succeeded', key: 'k', index: 1, files: ['0001-x.png'], attempts: 1, latencyMs: 900, costUnknown: true, at: 0 }), 'ok   0001-x.png  900ms  attempts 1  cost unknown');
  const unpriced = { answers: 2, images: 2, models: ['gemini-9-image'] };
  const only = summaryLines({ ...summary, costUsd: 0, unpriced, run: { succeeded: 2, failed: 0, cached: 0, attempts: 2, costUsd: 0, unpriced } });
  assert.ok(only.includes('  cost       unknown (2 images of gemini-9-image: price not known)'), only.join('\n'));
  assert.ok(!only.join('\n').includes('$0.0000'));
  const mixed = summaryLines({ ...summary, unpriced: { ...unpriced, answers: 1, images: 1 } });
  assert.ok(mixed.includes('  cost       $0.0780 + unknown (1 image of gemini-9-image: price not known)'), mixed.join('\n'));
});

test('summaryLines and formatMs', () => {
  const lines = summaryLines({ ...summary, stoppedBy: 'max cost' }, 'out/demo');
  assert.equal(lines[0], 'done: 2/4 succeeded, stopped by max cost');
  assert.ok(lines.includes('  output     out/demo'));
  assert.equal(formatMs(999), '999ms');
  assert.equal(formatMs(1250), '1.3s');
  assert.equal(formatMs(61_000), '1m01s');
  assert.equal(formatMs(3_660_000), '1h01m');
});
