// Application Default Credentials through google-auth-library, loaded only when a run uses Vertex AI.
// ADC order is the library's own: GOOGLE_APPLICATION_CREDENTIALS (service-account or external-account file), the
// gcloud ADC file, then the GCE metadata server (https://cloud.google.com/docs/authentication/application-default-credentials).
// A service account signs its own JWT (useJWTAccessWithScope, as Google's client libraries do), so no token
// endpoint is called; other credentials get access tokens that the library caches and refreshes before expiry.
import { readFile } from 'node:fs/promises';
import { AuthError } from '../errors.ts';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** The three ways to give Vertex credentials, for the error a run without any prints. */
export const CREDENTIAL_HELP =
  'no Google Cloud credentials found for --vertex. Provide one of: ' +
  '(1) a service-account key file: export GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json; ' +
  '(2) your user account: gcloud auth application-default login; ' +
  '(3) an Express-mode API key: export GOOGLE_API_KEY=... (without a project). ' +
  'On Cloud Run, GKE or GCE the metadata server provides them.';

export interface AdcOptions {
  /** Credentials file. @default the library's own lookup (GOOGLE_APPLICATION_CREDENTIALS, then the gcloud ADC file) */
  keyFile?: string;
  /** Refresh a token this long before it expires; one refresh serves every request waiting for it. @default 60_000 */
  refreshMarginMs?: number;
}

/** Bearer tokens for requests, and the project the credentials belong to. */
export interface TokenSource {
  /** The project id the credentials know (file, gcloud configuration, metadata server), if any. */
  projectId(): Promise<string | undefined>;
  /** `{ authorization: 'Bearer …' }` for a request to `url`. */
  authorize(url: string): Promise<Record<string, string>>;
  /** Drops the token that `authorization` carries (after a 401) so the next authorize() gets a new one. */
  invalidate(authorization: string): boolean;
}

/** The library's messages can quote a malformed key file; ours name the file only. */
function credentialError(err: unknown, keyFile: string | undefined): AuthError {
  const text = err instanceof Error ? err.message : String(err);
  if (/could not load the default credentials/i.test(text)) return new AuthError(CREDENTIAL_HELP);
  if (keyFile !== undefined) return new AuthError(`the credentials file ${keyFile} could not be used (not a readable service-account, external-account or authorized-user JSON file)`);
  return new AuthError(`Google Cloud credentials could not be loaded: ${text.split('\n')[0]!.slice(0, 200).replace(/-----BEGIN[\s\S]*/, '[key material removed]')}`);
}

interface MutableClient {
  credentials?: { access_token?: string | null; expiry_date?: number | null };
  access?: unknown;
  getRequestHeaders(url?: string): Promise<Headers | Record<string, string>>;
}

/** Reads the file once so a broken one is named here, before the library quotes its content in an error. */
async function checkKeyFile(keyFile: string): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(keyFile, 'utf8'));
  } catch {
    parsed = undefined;
  }
  const type = typeof parsed === 'object' && parsed !== null ? (parsed as { type?: unknown }).type : undefined;
  if (typeof type !== 'string') throw credentialError(new Error('unreadable'), keyFile);
}

export async function adcTokenSource(options: AdcOptions = {}): Promise<TokenSource> {
  if (options.keyFile !== undefined) await checkKeyFile(options.keyFile);
  const { GoogleAuth } = await import('google-auth-library');
  const auth = new GoogleAuth({
    scopes: [CLOUD_PLATFORM_SCOPE],
    ...(options.keyFile !== undefined ? { keyFilename: options.keyFile } : {}),
    clientOptions: { eagerRefreshThresholdMillis: options.refreshMarginMs ?? 60_000 },
  });
  // What Google's generated client libraries set: a service account signs a scoped JWT itself.
  auth.useJWTAccessWithScope = true;
  let client: MutableClient;
  try {
    client = (await auth.getClient()) as unknown as MutableClient;
  } catch (err) {
    throw credentialError(err, options.keyFile);
  }
  let last: string | undefined;
  return {
    async projectId() {
      try {
        return (await auth.getProjectId()) ?? undefined;
      } catch {
        return undefined;
      }
    },
    async authorize(url) {
      let headers: Headers | Record<string, string>;
      try {
        headers = await client.getRequestHeaders(url);
      } catch (err) {
        throw credentialError(err, options.keyFile);
      }
      const value = headers instanceof Headers ? headers.get('authorization') : (headers.authorization ?? headers.Authorization);
      if (!value) throw new AuthError('the Google Cloud credentials gave no access token');
      last = value;
      return { authorization: value };
    },
    invalidate(authorization) {
      // Several requests may see the same 401: only the first one drops the token they shared.
      if (authorization !== last) return true;
      last = undefined;
      if (client.credentials) client.credentials = { ...client.credentials, access_token: undefined, expiry_date: undefined };
      if ('access' in client) client.access = undefined;
      return true;
    },
  };
}
