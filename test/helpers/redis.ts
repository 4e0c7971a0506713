// A real redis-server per test file (Debian's package; .ci/run installs it): a free loopback port, no persistence,
// stopped at the end. A machine without redis-server fails under CI and skips loudly elsewhere.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const missing = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).error !== undefined;
/** The `skip` option for node:test: set only when redis-server is missing outside CI. */
export const redisSkip = missing && !process.env.CI ? `${REDIS_SERVER} not found: install it with apt-get install -y redis-server` : undefined;
if (redisSkip) console.error(`\n!!! SKIPPING the shared-quota tests: ${redisSkip} !!!\n`);

/** Call first in every Redis test: under CI a missing server is a failure, not a skip. */
export function requireRedis(): void {
  if (missing) throw new Error(`${REDIS_SERVER} is missing and CI is set: the shared-quota tests must run in CI`);
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: a crash, not a shutdown) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  requireRedis();
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child = c;
    const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`redis-server exited (${code})`))));
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port), exited]);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await gone;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, stop: kill };
}

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}
