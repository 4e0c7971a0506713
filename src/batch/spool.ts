// Spooling one batch's worth of jobs to disk as they stream in: the request JSONL (to upload or send inline)
// and the jobs file (kept in the output folder to turn answers back into named files). Nothing is held in memory
// beyond one line; writes respect back-pressure.
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { once } from 'node:events';
import { StorageError } from '../errors.ts';
import type { InlinedRequest } from '../gemini/wire.ts';
import { readLines } from '../internal/jsonl.ts';
import type { Job } from '../types.ts';
import { jobLine } from './state.ts';

class LineSink {
  private readonly stream: WriteStream;
  private failure: unknown;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'wx' });
    this.stream.on('error', (e) => {
      this.failure = e;
    });
  }

  async write(line: string): Promise<void> {
    if (this.failure) throw this.wrap(this.failure);
    // once() rejects on 'error' by itself and removes its listeners either way.
    if (!this.stream.write(line)) await once(this.stream, 'drain').catch(() => {});
    if (this.failure) throw this.wrap(this.failure);
  }

  async close(): Promise<void> {
    if (!this.stream.closed) await new Promise<void>((resolve) => this.stream.end(resolve));
    if (this.failure) throw this.wrap(this.failure);
  }

  private wrap(e: unknown): StorageError {
    return new StorageError(this.path, `cannot write ${this.path}: ${(e as Error).message}`, { cause: e });
  }
}

/** One future batch: a model, its request lines and its jobs. */
export class Chunk {
  count = 0;
  bytes = 0;
  private readonly requests: LineSink;
  private readonly jobs: LineSink;

  constructor(
    readonly id: string,
    readonly model: string,
    readonly requestsPath: string,
    readonly jobsPath: string,
  ) {
    this.requests = new LineSink(requestsPath);
    this.jobs = new LineSink(jobsPath);
  }

  /** Would one more line of `lineBytes` pass either limit? An empty chunk always takes its first line. */
  full(lineBytes: number, maxRequests: number, maxBytes: number): boolean {
    return this.count > 0 && (this.count >= maxRequests || this.bytes + lineBytes > maxBytes);
  }

  async add(job: Job, requestLine: string, lineBytes: number): Promise<void> {
    await this.requests.write(requestLine);
    await this.jobs.write(jobLine(job));
    this.count++;
    this.bytes += lineBytes;
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled([this.requests.close(), this.jobs.close()]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  /** The spooled lines as inline requests; only ever called for small chunks (under the inline limits). */
  async inlineRequests(signal?: AbortSignal): Promise<InlinedRequest[]> {
    const out: InlinedRequest[] = [];
    for await (const l of readLines(this.requestsPath, signal)) {
      if (l.text.trim() === '') continue;
      const { key, request } = JSON.parse(l.text) as { key: string; request: InlinedRequest['request'] };
      out.push({ request, metadata: { key } });
    }
    return out;
  }
}
