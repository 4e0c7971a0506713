// Vertex AI, as far as imagebatch uses it: the publisher-model generate routes (project/location form and the
// Express form), bearer-token checks, and Vertex's own error bodies.
//
// Shapes follow what Vertex answers in public bug reports:
// - overload: a bare 429 with no RetryInfo, "Resource exhausted. Please try again later. Please refer to
//   https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
//   (https://github.com/continuedev/continue/issues/8967, https://github.com/google-gemini/gemini-cli/issues/14811)
// - API not enabled: 403 PERMISSION_DENIED with ErrorInfo SERVICE_DISABLED and a Help link to the activation page
//   (https://github.com/GoogleCloudPlatform/vertex-ai-samples/issues/476)
// - a model that a location does not serve: 404 "Publisher Model `projects/…/publishers/google/models/…` was not
//   found or your project does not have access to it." (https://github.com/genkit-ai/genkit/issues/4688)
import type { IncomingMessage } from 'node:http';
import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { HttpError } from './errors.ts';
import { keyFromRequest } from './auth.ts';
import { isRecord } from './http.ts';

/** How the emulator plays Vertex AI. Every field is optional. */
export interface VertexEmulatorOptions {
  /**
   * PEM public keys of service accounts whose self-signed JWTs (RS256, as google-auth-library signs them) are
   * accepted as bearer tokens. @default [] (only tokens issued by the emulator's metadata server pass)
   */
  serviceAccountKeys?: string[];
  /** Project id the emulated GCE metadata server reports. @default 'emulated-project' */
  metadataProject?: string;
  /** Lifetime of access tokens the emulated metadata server issues, in real ms (reported in whole seconds). @default 3_600_000 */
  tokenLifetimeMs?: number;
  /** Projects with the Vertex AI API disabled: 403 SERVICE_DISABLED. @default [] */
  disabledProjects?: string[];
  /** Projects whose billing is disabled: 403 BILLING_DISABLED. @default [] */
  billingDisabledProjects?: string[];
  /** Model id → the only locations that serve it (404 elsewhere). A model not listed is served everywhere. @default {} */
  modelLocations?: Record<string, string[]>;
  /**
   * Dynamic shared quota: with more than `concurrency` generate requests in flight, each new one is refused with
   * the bare 429 with this probability (seeded). @default none
   */
  overload?: { concurrency: number; probability: number };
}

export interface ResolvedVertexOptions {
  keys: KeyObject[];
  metadataProject: string;
  tokenLifetimeMs: number;
  disabledProjects: string[];
  billingDisabledProjects: string[];
  modelLocations: Record<string, string[]>;
  overload: { concurrency: number; probability: number } | undefined;
}

/** A bad option, reported by the caller's error type. */
export type OptionProblem = { option: string; value: unknown; expected: string };

const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');

export function resolveVertexOptions(o: VertexEmulatorOptions | undefined): ResolvedVertexOptions | OptionProblem {
  if (o !== undefined && !isRecord(o)) return { option: 'vertex', value: o, expected: 'an object' };
  const v: VertexEmulatorOptions = o ?? {};
  const keys: KeyObject[] = [];
  if (v.serviceAccountKeys !== undefined) {
    if (!stringList(v.serviceAccountKeys)) return { option: 'vertex.serviceAccountKeys', value: v.serviceAccountKeys, expected: 'an array of PEM public keys' };
    for (const pem of v.serviceAccountKeys) {
      try {
        keys.push(createPublicKey(pem));
      } catch {
        return { option: 'vertex.serviceAccountKeys', value: '(a key)', expected: 'PEM public keys' };
      }
    }
  }
  const lifetime = v.tokenLifetimeMs ?? 3_600_000;
  if (typeof lifetime !== 'number' || !(lifetime >= 1000)) return { option: 'vertex.tokenLifetimeMs', value: lifetime, expected: 'a number ≥ 1000' };
  for (const name of ['disabledProjects', 'billingDisabledProjects'] as const) {
    if (v[name] !== undefined && !stringList(v[name])) return { option: `vertex.${name}`, value: v[name], expected: 'an array of project ids' };
  }
  const modelLocations = v.modelLocations ?? {};
  if (!isRecord(modelLocations) || !Object.values(modelLocations).every(stringList)) {
    return { option: 'vertex.modelLocations', value: modelLocations, expected: 'an object of model id → location list' };
  }
  const overload = v.overload;
  if (overload !== undefined) {
    const ok =
      isRecord(overload as unknown) &&
      Number.isInteger(overload.concurrency) &&
      overload.concurrency >= 0 &&
      typeof overload.probability === 'number' &&
      overload.probability >= 0 &&
      overload.probability <= 1;
    if (!ok) return { option: 'vertex.overload', value: overload, expected: '{ concurrency: whole number ≥ 0, probability: 0..1 }' };
  }
  const project = v.metadataProject ?? 'emulated-project';
  if (typeof project !== 'string' || !/^[a-z][a-z0-9-]{0,62}$/.test(project)) return { option: 'vertex.metadataProject', value: project, expected: 'a project id' };
  return {
    keys,
    metadataProject: project,
    tokenLifetimeMs: lifetime,
    disabledProjects: v.disabledProjects ?? [],
    billingDisabledProjects: v.billingDisabledProjects ?? [],
    modelLocations: modelLocations as Record<string, string[]>,
    overload,
  };
}

/** A Vertex generate route: `{v}/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}` or the Express `{v}/publishers/google/models/{m}:{method}`. */
export interface VertexTarget {
  project?: string;
  location?: string;
  model: string;
  method: string | undefined;
}

/** Parses the path segments after the API version; undefined when it is not a Vertex publisher-model path. */
export function vertexTarget(seg: string[]): VertexTarget | undefined {
  let rest = seg;
  let project: string | undefined;
  let location: string | undefined;
  if (rest[0] === 'projects' && rest[2] === 'locations' && rest.length >= 4) {
    project = rest[1];
    location = rest[3];
    rest = rest.slice(4);
  }
  if (rest.length !== 4 || rest[0] !== 'publishers' || rest[1] !== 'google' || rest[2] !== 'models') return undefined;
  const item = rest[3]!;
  const i = item.indexOf(':');
  const model = i < 0 ? item : item.slice(0, i);
  const method = i < 0 ? undefined : item.slice(i + 1);
  if (model === '') return undefined;
  return { project, location, model, method };
}

/** Issued access tokens (metadata server) and the checks on every Vertex request. */
export class VertexAuth {
  /** token → real-time expiry (ms, on the emulator's clock). */
  readonly #issued = new Map<string, number>();
  #serial = 0;
  tokensIssued = 0;
  expiredTokens = 0;
  jwtAccepted = 0;

  constructor(
    private readonly options: ResolvedVertexOptions,
    private readonly now: () => number,
    private readonly wallNow: () => number,
    private readonly apiKey: string | undefined,
  ) {}

  /** A new metadata-server token; the old ones stay valid until they expire, as on GCE. */
  issue(): { access_token: string; expires_in: number; token_type: 'Bearer' } {
    const token = `ya29.emulated-${++this.#serial}-${Math.floor(this.now())}`;
    this.#issued.set(token, this.now() + this.options.tokenLifetimeMs);
    this.tokensIssued++;
    for (const [t, exp] of this.#issued) if (exp < this.now() - 60_000) this.#issued.delete(t);
    return { access_token: token, expires_in: Math.floor(this.options.tokenLifetimeMs / 1000), token_type: 'Bearer' };
  }

  /** Revoked tokens fail like expired ones would, but are not counted as expired (the client did nothing wrong). */
  revokeAll(): void {
    this.#issued.clear();
  }

  /**
   * Returns the error to send, or undefined when the caller may go on. Project routes need a bearer token;
   * the Express route needs an API key (the top-level `apiKey` option, or any non-empty key when none is set)
   * or a bearer token.
   */
  check(req: IncomingMessage, url: URL, target: VertexTarget): HttpError | undefined {
    // The un-prefixed form is Express mode with a key, or a publisher-model read with a token (the SDK's models.get).
    if (target.project === undefined && req.headers.authorization === undefined) {
      const key = keyFromRequest(req, url);
      if (key === undefined) return unauthenticated();
      if (this.apiKey !== undefined && key !== this.apiKey) return new HttpError(400, 'API key not valid. Please pass a valid API key.', { status: 'INVALID_ARGUMENT' });
      return undefined;
    }
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) return unauthenticated();
    const token = m[1]!;
    const expiry = this.#issued.get(token);
    if (expiry !== undefined) {
      if (this.now() >= expiry) {
        this.expiredTokens++;
        return unauthenticated();
      }
      return undefined;
    }
    if (this.#validJwt(token)) {
      this.jwtAccepted++;
      return undefined;
    }
    return unauthenticated();
  }

  /** A self-signed service-account JWT: RS256 by one of the configured keys, iss = sub, not expired, scoped or addressed. */
  #validJwt(token: string): boolean {
    const parts = token.split('.');
    if (parts.length !== 3 || this.options.keys.length === 0) return false;
    let header: unknown;
    let claims: unknown;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return false;
    }
    if (!isRecord(header) || header.alg !== 'RS256' || !isRecord(claims)) return false;
    const signature = Buffer.from(parts[2]!, 'base64url');
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!this.options.keys.some((key) => verify('RSA-SHA256', data, key, signature))) return false;
    const nowS = this.wallNow() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) {
      this.expiredTokens++;
      return false;
    }
    if (typeof claims.iss !== 'string' || claims.iss !== claims.sub) return false;
    return typeof claims.scope === 'string' || typeof claims.aud === 'string';
  }
}

export function unauthenticated(): HttpError {
  return new HttpError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    { status: 'UNAUTHENTICATED' },
  );
}

/** The bare overload answer: no QuotaFailure, no RetryInfo. */
export function vertexResourceExhausted(): HttpError {
  return new HttpError(
    429,
    'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
    { status: 'RESOURCE_EXHAUSTED' },
  );
}

export function serviceDisabled(project: string): HttpError {
  const activation = `https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=${project}`;
  return new HttpError(
    403,
    `Vertex AI API has not been used in project ${project} before or it is disabled. Enable it by visiting ${activation} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`,
    {
      status: 'PERMISSION_DENIED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'SERVICE_DISABLED',
          domain: 'googleapis.com',
          metadata: { consumer: `projects/${project}`, service: 'aiplatform.googleapis.com', activationUrl: activation },
        },
        { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Google developers console API activation', url: activation }] },
      ],
    },
  );
}

export function billingDisabled(project: string): HttpError {
  return new HttpError(
    403,
    `This API method requires billing to be enabled. Please enable billing on project #${project} by visiting https://console.developers.google.com/billing/enable?project=${project} then retry. If you enabled billing for this project recently, wait a few minutes for the action to propagate to our systems and retry.`,
    {
      status: 'PERMISSION_DENIED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'BILLING_DISABLED',
          domain: 'googleapis.com',
          metadata: { consumer: `projects/${project}`, service: 'aiplatform.googleapis.com' },
        },
      ],
    },
  );
}

export function publisherModelNotFound(target: VertexTarget): HttpError {
  const prefix = target.project === undefined ? '' : `projects/${target.project}/locations/${target.location}/`;
  const name = `${prefix}publishers/google/models/${target.model}`;
  return new HttpError(
    404,
    `Publisher Model \`${name}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
    { status: 'NOT_FOUND' },
  );
}

/** Project-level refusals (API disabled, billing), then a model the location does not serve. */
export function checkProject(o: ResolvedVertexOptions, target: VertexTarget): HttpError | undefined {
  if (target.project !== undefined) {
    if (o.disabledProjects.includes(target.project)) return serviceDisabled(target.project);
    if (o.billingDisabledProjects.includes(target.project)) return billingDisabled(target.project);
    const where = o.modelLocations[target.model];
    if (where !== undefined && target.location !== undefined && !where.includes(target.location)) return publisherModelNotFound(target);
  }
  return undefined;
}

/** Vertex requires a role on every content ("Please use a valid role: user, model."). */
export function checkRoles(raw: unknown): void {
  const contents = isRecord(raw) ? raw.contents : undefined;
  if (!Array.isArray(contents)) return;
  for (const c of contents) {
    const role = isRecord(c) ? c.role : undefined;
    if (role !== 'user' && role !== 'model') throw new HttpError(400, 'Please use a valid role: user, model.', { status: 'INVALID_ARGUMENT' });
  }
}
