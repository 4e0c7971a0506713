// Which service a GeminiClient talks to and how it signs requests. The Gemini Developer API (an API key in the
// x-goog-api-key header) is the default; Vertex AI (src/vertex/) plugs in here with bearer tokens or an Express key.
import type { ErrorOutcome } from '../types.ts';

export type BackendKind = 'gemini' | 'vertex';

export interface Backend {
  readonly kind: BackendKind;
  /**
   * Stable name of the endpoint for the cache and the manifest (backend, host, project, location), never a
   * credential: two backends with different ids never share cached answers.
   */
  readonly id: string;
  /** Base URL (origin and optional path prefix, no trailing slash); credentials are only ever sent to its origin. */
  readonly baseUrl: string;
  /** @default 'v1beta' for Gemini, 'v1' for Vertex */
  readonly apiVersion: string;
  /** Path of a model (under the API version) before ':method', e.g. 'models/x' or 'projects/p/locations/l/publishers/google/models/x'. */
  modelPath(model: string): string;
  /** Path that models.get reads (Vertex: the publisher model, without the project prefix, as the SDK reads it). */
  modelResourcePath(model: string): string;
  /** Headers that authenticate one request (never logged). */
  authorize(signal?: AbortSignal): Promise<Record<string, string>>;
  /**
   * After a 401: forget the credential that `used` carries, so the next authorize() fetches a new one. Returns
   * true when one more try may succeed (a refreshable token), false for a fixed key.
   */
  invalidate?(used: Record<string, string>): boolean;
  /** Secrets to scrub from any text this client returns. */
  secrets(): string[];
  /** Adds the backend's own advice (what to enable, which flag to change) to a run-stopping error. */
  explain?(failure: ErrorOutcome): ErrorOutcome;
  /** Batch mode, Files API: false where the backend does not offer them through this client. */
  readonly supportsBatch: boolean;
}
