// Shared quota (issue 14): P processes on one emulator quota, each with the project's --rpm (known) or none
// (discovered), with and without --shared-quota. Makespan ÷ bound, 429s per 1000 requests, requests inside an
// announced pause and Redis round trips per request, side by side in one run. Needs redis-server (Debian package).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../src/emulator/index.ts';
import { fmt, markdownTable } from './lib/stats.ts';

export interface SharedRow {
  processes: number;
  rate: 'known' | 'discovered';
  shared: boolean;
  makespanOverBound: number;
  per1000: number;
  insidePause: number;
  roundTripsPerRequest?: number;
  failed: number;
}

const CHILD = fileURLToPath(new URL('./shared-child.ts', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export async function runSharedBench(o: { jobs: number; log: (line: string) => void; processes?: readonly number[]; rates?: readonly ('known' | 'discovered')[]; sharedOnly?: boolean }): Promise<SharedRow[]> {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let admin;
  try {
    const { connectRedis } = await import('../src/quota/connect.ts');
    for (let i = 0; ; i++) {
      try {
        admin = await connectRedis(`redis://127.0.0.1:${port}`);
        break;
      } catch (e) {
        if (i > 40) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (e) {
    // No redis-server left behind when the client cannot load or connect.
    redis.kill('SIGKILL');
    throw e;
  }
  // 120 requests per emulated minute; timeScale 0.1: a "minute" lasts 6 s, so the quota is 20 requests/s real, one
  // every 50 ms: slow enough that the machine's scheduling jitter (a few ms, more under load) is small beside the
  // spacing, as it is beside Google's 60-s windows. Clients run on the real clock and are told the window
  // (quotaWindowMs), so a rate learned from 429s means the same thing alone and shared.
  const quota = 120;
  const timeScale = 0.1;
  const realRpm = quota / timeScale;
  const emu = await startEmulator({ seed: 3, apiKey: 'bench-key', timeScale, quota: { requestsPerMinute: quota }, latency: { distribution: 'fixed', meanMs: 2000 } });
  const rows: SharedRow[] = [];
  const evals = async () => {
    const info = await admin.client.info('commandstats');
    let n = 0;
    for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) n += Number(m[1]);
    return n;
  };
  try {
    for (const rate of o.rates ?? (['known', 'discovered'] as const)) {
      for (const processes of o.processes ?? [1, 2, 4, 8]) {
        for (const shared of o.sharedOnly ? [true] : [false, true]) {
          const per = Math.ceil(o.jobs / processes);
          const options = {
            concurrency: 64,
            requestsPerMinute: rate === 'known' ? realRpm : undefined,
            quotaWindowMs: 60_000 * timeScale,
            sharedQuota: shared ? { url: `redis://127.0.0.1:${port}`, group: `bench-${rate}-${processes}` } : undefined,
          };
          const children = Array.from({ length: processes }, (_, i) => spawn(process.execPath, ['--import', 'tsx', CHILD, emu.url, `p${i}`, String(per), JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] }));
          const outputs = children.map((c) => {
            const lines = createInterface({ input: c.stdout });
            const got: string[] = [];
            const ready = new Promise<void>((resolve) => lines.on('line', (l) => (l === 'ready' ? resolve() : got.push(l))));
            const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
            return { ready, exited, got };
          });
          await Promise.all(outputs.map((x) => x.ready));
          // Past the emulator's current window, so every run starts with a fresh one.
          await new Promise((r) => setTimeout(r, 60_000 * timeScale + 100));
          emu.resetCounters();
          const evalsBefore = await evals();
          const t0 = performance.now();
          for (const c of children) c.stdin.write('go\n');
          await Promise.all(outputs.map((x) => x.exited));
          const makespan = performance.now() - t0;
          const c = emu.counters;
          const requests = c.byRoute.generateContent ?? c.requests;
          const q429 = c.byStatus['429'] ?? 0;
          const total = per * processes;
          const bound = (total / realRpm) * 60_000;
          const failed = outputs.reduce((n, x) => n + (x.got.length ? (JSON.parse(x.got.at(-1)!) as { failed: number }).failed : per), 0);
          const row: SharedRow = {
            processes,
            rate,
            shared,
            makespanOverBound: makespan / bound,
            per1000: (1000 * q429) / Math.max(1, requests),
            insidePause: c.startsInsidePause,
            roundTripsPerRequest: shared ? ((await evals()) - evalsBefore) / Math.max(1, requests) : undefined,
            failed,
          };
          o.log(`shared: P=${processes} ${rate} ${shared ? 'shared' : 'alone'}: ${JSON.stringify(row)}`);
          rows.push(row);
        }
      }
    }
  } finally {
    await emu.close();
    await admin.close();
    redis.kill('SIGKILL');
  }
  return rows;
}

export function sharedTable(rows: readonly SharedRow[]): string {
  return markdownTable(
    ['P', 'rate', '--shared-quota', 'makespan ÷ bound', '429s / 1000 req', 'inside a pause', 'Redis round trips / req', 'failed jobs'],
    rows.map((r) => [String(r.processes), r.rate, r.shared ? 'yes' : 'no', fmt(r.makespanOverBound), fmt(r.per1000, 1), String(r.insidePause), r.roundTripsPerRequest === undefined ? '—' : fmt(r.roundTripsPerRequest), String(r.failed)]),
  );
}
