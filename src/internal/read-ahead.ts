// Reading a byte stream ahead in bursts, so a slow consumer does not make the download quadratic.
//
// Why: Node's fetch (undici) pauses its HTTP parser whenever a body chunk is not taken at once. Each resume reads
// the socket's WHOLE buffer (one copy of it), parses a chunk or two, puts the rest back, and asks the kernel for one
// more read (up to 64 KiB). A consumer that takes one small chunk per resume, say one results line per image
// fsync, thus lets that buffer grow by up to 64 KiB per line and copies all of it each time: O(file²). Measured on
// a 20 MB results file read at 10 ms a line: 3.9 GB copied, 2.4 s of CPU where 0.6 s does. Reading in bursts
// (nothing while `lowBytes` are queued, then until `highBytes` are) lets each burst drain the socket as fast as it
// fills; memory stays bounded by `highBytes` plus one chunk.

export interface ReadAheadOptions {
  /** Stop reading once this many bytes are queued. @default 4 MiB */
  highBytes?: number;
  /** Start reading again once the queue is below this. @default highBytes / 2 */
  lowBytes?: number;
}

export const READ_AHEAD_BYTES = 4 * 1024 * 1024;

type Read = () => Promise<ReadableStreamReadResult<Uint8Array>>;

/**
 * The chunks `read` returns, in order, read ahead in bursts (see above). An error of `read` is thrown after the
 * chunks read before it. Reading stops when the consumer stops; the caller cancels the source (a read already
 * pending then settles on its own).
 */
export async function* readAhead(read: Read, options: ReadAheadOptions = {}): AsyncGenerator<Uint8Array> {
  const high = Math.max(1, options.highBytes ?? READ_AHEAD_BYTES);
  const low = Math.min(high, Math.max(0, options.lowBytes ?? Math.floor(high / 2)));
  const queue: Uint8Array[] = [];
  let head = 0;
  let queued = 0;
  let ended = false;
  let failed = false;
  let failure: unknown;
  let stopped = false;
  let burst: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fill = async () => {
    try {
      while (!stopped && queued < high) {
        const r = await read();
        if (r.done) {
          ended = true;
          break;
        }
        queue.push(r.value);
        queued += r.value.byteLength;
        signal();
      }
    } catch (e) {
      failed = true;
      failure = e;
    } finally {
      burst = undefined;
      signal();
    }
  };
  const refill = () => {
    if (!burst && !ended && !failed && queued <= low) burst = fill();
  };
  try {
    for (;;) {
      refill();
      if (head < queue.length) {
        const chunk = queue[head]!;
        queue[head++] = EMPTY;
        queued -= chunk.byteLength;
        refill(); // now, not when the consumer asks again: the burst runs while it works on this chunk
        // Drop taken slots now and then, so the array never grows with the file.
        if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        yield chunk;
        continue;
      }
      if (failed) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stopped = true;
  }
}

const EMPTY = new Uint8Array(0);
