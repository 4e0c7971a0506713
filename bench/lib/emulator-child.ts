// Child-process entry: one emulator, driven over IPC by remote-emulator.ts. Running it in its own process keeps
// its PNG encoding and HTTP work off the client's event loop (and on the other core), so the client's timers
// are late only by what the client itself does.
import { performance } from 'node:perf_hooks';
import { startEmulator } from '../../src/emulator/index.ts';
import type { EmulatorOptions, QuotaOptions } from '../../src/emulator/index.ts';

export interface ScheduledQuota {
  /** Real ms after the emulator started. */
  atRealMs: number;
  quota: Partial<QuotaOptions>;
}

export type ChildRequest = { type: 'start'; options: EmulatorOptions; schedule: ScheduledQuota[] } | { type: 'counters' } | { type: 'close' };

export interface ChildCounters {
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  quota429ByQuotaId: Record<string, number>;
  startsInsidePause: number;
  maxInFlight: number;
  maxStartsPerWindow: number;
  faults: Record<string, number>;
}

export type ChildReply = { type: 'started'; url: string } | { type: 'counters'; counters: ChildCounters } | { type: 'closed' } | { type: 'error'; message: string };

const send = (m: ChildReply) => process.send?.(m);

let emu: Awaited<ReturnType<typeof startEmulator>> | undefined;
const timers: NodeJS.Timeout[] = [];

process.on('message', (m: ChildRequest) => {
  void (async () => {
    try {
      if (m.type === 'start') {
        const t0 = performance.now();
        emu = await startEmulator(m.options);
        const e = emu;
        for (const s of m.schedule) timers.push(setTimeout(() => e.setQuota(s.quota), Math.max(0, t0 + s.atRealMs - performance.now())));
        send({ type: 'started', url: e.url });
      } else if (m.type === 'counters') {
        const c = emu!.counters;
        const { byRoute, byStatus, quota429ByQuotaId, startsInsidePause, maxInFlight, maxStartsPerWindow, faults } = c;
        send({ type: 'counters', counters: { byRoute, byStatus, quota429ByQuotaId, startsInsidePause, maxInFlight, maxStartsPerWindow, faults } });
      } else if (m.type === 'close') {
        for (const t of timers) clearTimeout(t);
        await emu?.close();
        send({ type: 'closed' });
        process.disconnect?.();
      }
    } catch (e) {
      send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  })();
});
