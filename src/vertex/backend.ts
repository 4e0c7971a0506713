// Vertex AI as a GeminiClient backend: chosen and configured like the official SDK does it
// (GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION, 'global' by default, an Express-mode key when no project is set),
// with the REST paths of https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models/generateContent
import { AuthError, OptionError } from '../errors.ts';
import type { Backend } from '../gemini/backend.ts';
import { checkBaseUrl } from '../gemini/client.ts';
import type { ErrorOutcome } from '../types.ts';
import type { TokenSource } from './auth.ts';
import { CREDENTIAL_HELP, adcTokenSource } from './auth.ts';
import { DEFAULT_MODEL } from '../models/index.ts';

export interface VertexOptions {
  /** Google Cloud project. @default env GOOGLE_CLOUD_PROJECT, else the project the credentials know */
  project?: string;
  /** Region or 'global'. @default env GOOGLE_CLOUD_LOCATION, else 'global' */
  location?: string;
  /** Express-mode API key, used when no project is set. @default env GOOGLE_API_KEY */
  apiKey?: string;
  /** Credentials file (service account, external account, authorized user). @default env GOOGLE_APPLICATION_CREDENTIALS, then the gcloud ADC file, then the metadata server */
  keyFile?: string;
  /** Host override for tests and proxies. @default https://aiplatform.googleapis.com (global) or https://{location}-aiplatform.googleapis.com */
  baseUrl?: string;
  /** Refresh access tokens this long before they expire. @default 60_000 */
  refreshMarginMs?: number;
  /** Where the defaults are read. @default process.env */
  env?: Record<string, string | undefined>;
  /** Injectable credentials, for tests. @default Application Default Credentials through google-auth-library */
  tokens?: TokenSource;
}

const set = (v: string | undefined): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** True when the environment asks for Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true|1), as the SDK reads it. */
export function vertexFromEnv(env: Record<string, string | undefined> = process.env): boolean {
  return /^(true|1)$/i.test(env.GOOGLE_GENAI_USE_VERTEXAI?.trim() ?? '');
}

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function hostFor(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

function modelId(model: string): string {
  const id = model.replace(/^(models\/|publishers\/google\/models\/)/, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new OptionError('model', model, `a model id such as ${DEFAULT_MODEL}`);
  return id;
}

/** Vertex's advice for run-stopping errors: what to enable, where to look. */
function explain(project: string | undefined, location: string): (f: ErrorOutcome) => ErrorOutcome {
  return (f) => {
    const why = `${f.errorReason ?? ''} ${f.message}`;
    if (f.reason === 'auth') {
      return { ...f, advice: 'check the credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, the metadata server, or an Express key in GOOGLE_API_KEY' };
    }
    if (f.httpStatus === 403 && /SERVICE_DISABLED|has not been used in project/i.test(why)) {
      return { ...f, advice: `run: gcloud services enable aiplatform.googleapis.com${project ? ` --project ${project}` : ''}` };
    }
    if (f.httpStatus === 403 && /BILLING_DISABLED|requires billing/i.test(why)) {
      return { ...f, advice: 'billing is disabled on this project: link a billing account (https://console.cloud.google.com/billing)' };
    }
    if (f.httpStatus === 403) {
      return { ...f, advice: `the credentials need the Vertex AI User role (roles/aiplatform.user) on project ${project ?? '(unknown)'}` };
    }
    if (f.httpStatus === 404 && /Publisher Model/i.test(f.message)) {
      const advice = location === 'global' ? 'check the model id (imagebatch models) and that the project may use it' : `location '${location}' may not serve this model: try --location global`;
      return { ...f, advice };
    }
    return f;
  };
}

/**
 * Resolves project, location and credentials (ADC or an Express key) and returns the backend. Precedence as in the
 * SDK: a project (option or GOOGLE_CLOUD_PROJECT) means ADC; else an API key means Express mode; else ADC with the
 * credentials' own project. No credentials at all → AuthError listing the three ways to provide them.
 */
export async function vertexBackend(options: VertexOptions = {}): Promise<Backend> {
  const env = options.env ?? process.env;
  const location = set(options.location) ?? set(env.GOOGLE_CLOUD_LOCATION) ?? 'global';
  if (!ID.test(location)) throw new OptionError('location', location, "a Vertex AI location such as 'global' or 'us-central1'");
  const explicitProject = set(options.project) ?? set(env.GOOGLE_CLOUD_PROJECT);
  if (explicitProject !== undefined && !/^[a-z0-9][a-z0-9.:-]{0,62}$/.test(explicitProject)) {
    throw new OptionError('project', explicitProject, 'a Google Cloud project id');
  }
  const apiKey = set(options.apiKey) ?? set(env.GOOGLE_API_KEY);
  const base = options.baseUrl !== undefined ? checkBaseUrl(options.baseUrl) : hostFor(location);

  if (explicitProject === undefined && apiKey !== undefined && options.tokens === undefined) {
    if (!/^[\x21-\x7e]+$/.test(apiKey)) throw new AuthError('the API key contains spaces or non-ASCII characters');
    return {
      kind: 'vertex',
      id: `vertex-express ${new URL(base).origin}`,
      baseUrl: base,
      apiVersion: 'v1',
      modelPath: (model) => `publishers/google/models/${modelId(model)}`,
      modelResourcePath: (model) => `publishers/google/models/${modelId(model)}`,
      authorize: async () => ({ 'x-goog-api-key': apiKey }),
      secrets: () => [apiKey],
      explain: explain(undefined, location),
      supportsBatch: false,
    };
  }

  const tokens = options.tokens ?? (await adcTokenSource({ keyFile: set(options.keyFile) ?? set(env.GOOGLE_APPLICATION_CREDENTIALS), refreshMarginMs: options.refreshMarginMs }));
  const project = explicitProject ?? (await tokens.projectId());
  if (project === undefined) {
    throw new AuthError(`no Google Cloud project for --vertex: pass --project or set GOOGLE_CLOUD_PROJECT (the credentials name none). ${CREDENTIAL_HELP}`);
  }
  const issued = new Set<string>();
  // Tokens are signed for the real service host; a --base-url (tests, proxies) changes where they go, not that.
  const audience = `${hostFor(location)}/`;
  return {
    kind: 'vertex',
    id: `vertex ${new URL(base).origin} projects/${project}/locations/${location}`,
    baseUrl: base,
    apiVersion: 'v1',
    modelPath: (model) => `projects/${project}/locations/${location}/publishers/google/models/${modelId(model)}`,
    // https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/publishers.models/get
    modelResourcePath: (model) => `publishers/google/models/${modelId(model)}`,
    async authorize() {
      const h = await tokens.authorize(audience);
      if (h.authorization) issued.add(h.authorization.replace(/^Bearer\s+/i, ''));
      return h;
    },
    invalidate: (used) => (used.authorization ? tokens.invalidate(used.authorization) : false),
    // Tokens are credentials too: scrub every one this run was given.
    secrets: () => [...issued],
    explain: explain(project, location),
    supportsBatch: false,
  };
}
