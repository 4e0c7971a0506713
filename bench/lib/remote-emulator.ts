// An emulator in a child process (see emulator-child.ts), with the few calls a benchmark needs.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions } from '../../src/emulator/index.ts';
import type { ChildCounters, ChildReply, ChildRequest, ScheduledQuota } from './emulator-child.ts';

export type { ChildCounters, ScheduledQuota } from './emulator-child.ts';

export interface RemoteEmulator {
  url: string;
  counters(): Promise<ChildCounters>;
  close(): Promise<void>;
}

function ask<T extends ChildReply['type']>(child: ChildProcess, req: ChildRequest, want: T): Promise<Extract<ChildReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ChildReply) => {
      if (m.type !== want && m.type !== 'error') return;
      cleanup();
      if (m.type === 'error') reject(new Error(`emulator child: ${m.message}`));
      else resolve(m as Extract<ChildReply, { type: T }>);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`emulator child exited (${code}) before answering ${req.type}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(req);
  });
}

/** Starts an emulator in a child process; `schedule` changes its quota at real times after it started. */
export async function startRemoteEmulator(options: EmulatorOptions, schedule: ScheduledQuota[] = []): Promise<RemoteEmulator> {
  // Compiled benchmarks (bench/tsconfig.children.json) fork the compiled child under plain node; the source through tsx.
  const compiled = import.meta.url.endsWith('.js');
  const entry = fileURLToPath(new URL(compiled ? './emulator-child.js' : './emulator-child.ts', import.meta.url));
  const child = fork(entry, [], { execArgv: compiled ? [] : ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { url } = await ask(child, { type: 'start', options, schedule }, 'started');
    return {
      url,
      counters: async () => (await ask(child, { type: 'counters' }, 'counters')).counters,
      async close() {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        await ask(child, { type: 'close' }, 'closed').catch(() => undefined);
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      },
    };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}
