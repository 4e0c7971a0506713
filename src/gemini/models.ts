// models.get and models.list (https://ai.google.dev/api/models): what the key can call, asked before a run pays
// for anything. Raw REST like the Files and Batches calls; a non-2xx answer throws the client's typed errors.
import type { CallOptions, GeminiClient } from './client.ts';
import type { ListModelsResponse, ModelResource } from './wire.ts';

/** GET models/{id}. A 404 throws ApiError (reason 'not_found') with the server's message. */
export async function getModel(client: GeminiClient, model: string, options: CallOptions = {}): Promise<ModelResource> {
  return (await client.requestJson<ModelResource>('GET', client.modelResourcePath(model), options)).body;
}

export interface ListModelsOptions extends CallOptions {
  /** Models per page (Google: default 50, at most 1000). @default 1000 */
  pageSize?: number;
}

/** Every model the key can see, fetching pages lazily as the caller iterates. */
export async function* listModels(client: GeminiClient, options: ListModelsOptions = {}): AsyncGenerator<ModelResource> {
  let pageToken: string | undefined;
  do {
    const { body } = await client.requestJson<ListModelsResponse>('GET', 'models', {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      query: { pageSize: options.pageSize ?? 1000, pageToken },
    });
    for (const m of body.models ?? []) yield m;
    pageToken = body.nextPageToken || undefined;
  } while (pageToken);
}
