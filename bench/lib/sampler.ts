// Peak memory of the current process, sampled on a timer (the timer is unref'd so it never keeps a run alive).

export interface MemoryPeaks {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory outside the JS heap that V8 knows of (Buffers, ArrayBuffers). */
  external: number;
}

/** `onSample` sees each RSS reading (for a safety cap). */
export function sampleMemory(everyMs = 100, onSample?: (rss: number) => void): { peaks: MemoryPeaks; sample: () => void; stop: () => MemoryPeaks } {
  const peaks: MemoryPeaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peaks.rss = Math.max(peaks.rss, m.rss);
    peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed);
    peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal);
    peaks.external = Math.max(peaks.external, m.external);
    onSample?.(m.rss);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    peaks,
    sample,
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** Full collections until the heap stops shrinking (needs node --expose-gc). */
export function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last * 0.99) return used;
    last = used;
  }
  return last;
}
