// Emulated time for the client side of a benchmark. The emulator multiplies every emulated duration by
// `timeScale`; running the client on a clock that divides by the same factor lets every client constant
// (backoff base 1 s, 60 s quota windows of the rate learner, jitter caps, probe spacing) keep its real-world
// meaning, so a 12-second bench run behaves like the 17-minute run it stands for.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../src/internal/clock.ts';
import { abortReason, abortableSleep } from '../../src/internal/clock.ts';

/**
 * A clock in emulated ms: now() = real ms since creation ÷ scale; sleep(ms) waits ms × scale real ms.
 * Sleeps are never early against now() and rarely late: a timer takes all but the last 1.5 ms (Node timers
 * fire on whole ms, sometimes before their time), then setImmediate turns finish the wait. At a time scale of
 * 0.01 a 1 ms error would be 100 emulated ms, 10 % of a 60-RPM pacing interval.
 */
export function scaledClock(scale: number): Clock {
  const origin = performance.now();
  return {
    now: () => (performance.now() - origin) / scale,
    async sleep(ms: number, signal?: AbortSignal): Promise<void> {
      const target = performance.now() + Math.max(0, ms) * scale;
      for (;;) {
        if (signal?.aborted) throw abortReason(signal);
        const left = target - performance.now();
        if (left <= 0) return;
        if (left > 2) await abortableSleep(left - 1.5, signal);
        else await new Promise<void>((r) => setImmediate(r));
      }
    },
  };
}

/** "0.371s" (real) → "37.1s" (emulated), rounded up to whole emulated ms so a client never comes back early. */
function toEmulated(seconds: string, scale: number): string {
  const emulatedMs = Math.ceil((Number(seconds) * 1000) / scale);
  return (emulatedMs / 1000).toFixed(3).replace(/\.?0+$/, '');
}

/**
 * Wraps fetch so that the delays a 429 announces (RetryInfo.retryDelay and "Please retry in Xs.", which the
 * emulator reports in REAL scaled time) reach the client in emulated time, the unit of its clock.
 */
export function emulatedRetryInfo(scale: number, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.status !== 429) return res;
    const text = await res.text();
    const fixed = text
      .replace(/("retryDelay"\s*:\s*")([\d.]+)s"/g, (_m, head: string, s: string) => `${head}${toEmulated(s, scale)}s"`)
      .replace(/(Please retry in )([\d.]+)s/g, (_m, head: string, s: string) => `${head}${toEmulated(s, scale)}s`);
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.delete('retry-after');
    return new Response(fixed, { status: res.status, statusText: res.statusText, headers });
  };
}
