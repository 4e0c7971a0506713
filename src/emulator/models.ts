// The emulator's model line-up, derived from the model registry: models.get / models.list in Google's `Model`
// shape (paged), and the three 404s a model can get: shut down, closed to new users, never existed.
// Message shapes from real answers: https://github.com/google/adk-docs/pull/1840 (no longer available),
// https://github.com/Pickle-Pixel/ApplyPilot/issues/6 (no longer available to new users),
// https://github.com/google-gemini/gemini-cli/issues/24131 (not found for API version).
import type { ListModelsResponse, ModelResource } from '../gemini/wire.ts';
import { findModel } from '../models/index.ts';
import { invalidArgument, modelNotFound, notFound } from './errors.ts';
import type { HttpError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';

const UPDATE = 'Please update your code to use a newer model for the latest features and improvements.';

/** Google's default and largest models.list page (https://ai.google.dev/api/models#method:-models.list). */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

type Lineup = Pick<ResolvedOptions, 'models' | 'existingUser'>;

/** The 404 a call on this model gets, or undefined when the caller may use it. */
export function modelRefusal(options: Lineup, id: string, method: string, apiVersion: string): HttpError | undefined {
  const info = findModel(id);
  if (info?.status === 'shut_down') return notFound(`This model models/${id} is no longer available. ${UPDATE}`);
  if (info?.status === 'restricted' && !options.existingUser) return notFound(`This model models/${id} is no longer available to new users. ${UPDATE}`);
  if (!options.models.includes(id)) return modelNotFound(id, method, apiVersion);
  return undefined;
}

/**
 * One model as models.get answers it, with the fields a recorded models.list carries (test/fixtures/replay/
 * 200-models-list.json, from maruel/genai's cassette): sampling defaults, and `thinking: true` only on thinking
 * models (absent otherwise). Facts the registry lacks (text models, extra ids) get neutral values.
 */
export function modelResource(id: string): ModelResource {
  const info = findModel(id);
  return {
    // No baseModelId: the recorded models.list (maruel/genai cassette) has none for Gemini models.
    name: `models/${id}`,
    version: '001',
    displayName: info?.name ?? id,
    description: info ? `${info.name} (emulated by imagebatch)` : 'Emulated model (imagebatch local Gemini emulator).',
    inputTokenLimit: info?.inputTokenLimit ?? 32_768,
    outputTokenLimit: info?.outputTokenLimit ?? 32_768,
    supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 1,
    ...(info && info.thinking.kind !== 'none' ? { thinking: true } : {}),
  };
}

/** models.list: the models this caller may use, `pageSize` at a time; the page token is the next offset. */
export function listModels(options: Lineup, query: URLSearchParams, apiVersion: string): ListModelsResponse {
  const usable = options.models.filter((id) => modelRefusal(options, id, 'get', apiVersion) === undefined);
  const rawSize = query.get('pageSize');
  const size = rawSize === null || rawSize === '' ? DEFAULT_PAGE_SIZE : Number(rawSize);
  if (!Number.isInteger(size) || size < 0) throw invalidArgument(`Invalid value at 'page_size' (TYPE_INT32), "${rawSize}"`);
  const pageSize = size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
  const token = query.get('pageToken');
  let start = 0;
  if (token) {
    start = Number.parseInt(Buffer.from(token, 'base64url').toString('utf8').replace(/^offset:/, ''), 10);
    if (!Number.isInteger(start) || start < 0 || start > usable.length) throw invalidArgument('Invalid page token.');
  }
  const page = usable.slice(start, start + pageSize);
  const next = start + pageSize;
  const out: ListModelsResponse = { models: page.map(modelResource) };
  if (next < usable.length) out.nextPageToken = Buffer.from(`offset:${next}`).toString('base64url');
  return out;
}
