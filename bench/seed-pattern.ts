// The seed's design, as a baseline (OUR RECONSTRUCTION of its retry details): a fixed semaphore of 5,
// results in completion order, no client-side rate limit, up to 3 retries on 429 / 5xx / network errors
// with exponential backoff of 2^n s (n = 0, 1, 2), and RetryInfo ignored. Plain fetch, none of our code (only
// the name of the default model, so both sides ask for the same one: the emulator retired the seed's model).
import { DEFAULT_MODEL } from '../src/models/index.ts';

export interface SeedPatternOptions {
  baseUrl: string;
  apiKey: string;
  /** @default DEFAULT_MODEL (what imagebatch asks for when a job names none) */
  model?: string;
  /** Real ms per emulated ms: the backoff seconds are emulated seconds. @default 1 */
  timeScale?: number;
  /** @default 5 */
  concurrency?: number;
  /** @default 3 */
  maxRetries?: number;
  /** @default undefined */
  signal?: AbortSignal;
}

export interface SeedPatternResult {
  succeeded: number;
  failed: number;
  attempts: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runSeedPattern(prompts: readonly string[], o: SeedPatternOptions): Promise<SeedPatternResult> {
  const url = `${o.baseUrl}/v1beta/models/${o.model ?? DEFAULT_MODEL}:generateContent`;
  const scale = o.timeScale ?? 1;
  const maxRetries = o.maxRetries ?? 3;
  const out: SeedPatternResult = { succeeded: 0, failed: 0, attempts: 0 };

  async function one(prompt: string): Promise<boolean> {
    for (let n = 0; ; n++) {
      out.attempts++;
      let retryable: boolean;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-goog-api-key': o.apiKey },
          body: JSON.stringify({ contents: [{ parts: [{ text: prompt }] }], generationConfig: { responseModalities: ['IMAGE'] } }),
          signal: o.signal,
        });
        const text = await res.text();
        if (res.ok) return text.includes('"inlineData"');
        retryable = res.status === 429 || res.status >= 500;
      } catch {
        if (o.signal?.aborted) return false;
        retryable = true; // network error or a reset mid-body
      }
      if (!retryable || n >= maxRetries) return false;
      await sleep(2 ** n * 1000 * scale);
    }
  }

  // A fixed semaphore: 5 workers pulling from one queue, each result counted as it completes.
  let next = 0;
  const worker = async () => {
    while (next < prompts.length) {
      const prompt = prompts[next++]!;
      if (await one(prompt)) out.succeeded++;
      else out.failed++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 5 }, worker));
  return out;
}
