// Files API (https://ai.google.dev/api/files): resumable upload exactly as the SDK does it, get/list/delete, and
// streamed download. Files up to 2 GB are read chunk by chunk, never whole, and nothing is retried here.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ApiError, OptionError, StorageError } from '../errors.ts';
import type { GeminiClient } from './client.ts';
import { readAhead } from '../internal/read-ahead.ts';
import { fileId } from './names.ts';
import type { FileResource, ListFilesResponse, UploadFinalResponse, UploadStartRequest } from './wire.ts';

/** The SDK's chunk size; Google's resumable protocol wants multiples of 256 KiB for all but the last. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

export type UploadSource = { data: Uint8Array } | { path: string };

export interface UploadOptions {
  /** Sent as X-Goog-Upload-Header-Content-Type and file.mimeType (e.g. 'jsonl', 'image/png'). Required. */
  mimeType: string;
  /** @default none */
  displayName?: string;
  /** Bytes per upload request. @default 8 MiB */
  chunkBytes?: number;
  /** @default none */
  signal?: AbortSignal;
  /** Per request (start, each chunk). @default the client's timeoutMs */
  timeoutMs?: number;
}

export interface FileCallOptions {
  /** @default none */
  signal?: AbortSignal;
  /** @default the client's timeoutMs */
  timeoutMs?: number;
}

export interface ListOptions extends FileCallOptions {
  /** Page size asked of the server. @default server default */
  pageSize?: number;
}

export async function uploadFile(client: GeminiClient, source: UploadSource, options: UploadOptions): Promise<FileResource> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new OptionError('chunkBytes', chunkBytes, 'a positive integer');
  if (typeof options.mimeType !== 'string' || options.mimeType.trim() === '') {
    throw new OptionError('mimeType', options.mimeType, 'a MIME type such as jsonl or image/png');
  }
  const reader = await openSource(source);
  try {
    const call = { signal: options.signal, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
    const nameHeader: Record<string, string> = reader.fileName ? { 'x-goog-upload-file-name': reader.fileName } : {};
    const start: UploadStartRequest = {
      file: { mimeType: options.mimeType, sizeBytes: String(reader.size), ...(options.displayName ? { displayName: options.displayName } : {}) },
    };
    const started = await client.ensureOk(
      await client.raw('POST', `upload/${client.apiVersion || 'v1beta'}/files`, {
        ...call,
        body: JSON.stringify(start),
        headers: {
          'content-type': 'application/json',
          'x-goog-upload-protocol': 'resumable',
          'x-goog-upload-command': 'start',
          'x-goog-upload-header-content-length': String(reader.size),
          'x-goog-upload-header-content-type': options.mimeType,
          ...nameHeader,
        },
      }),
    );
    await started.body?.cancel().catch(() => {});
    const uploadUrl = started.headers.get('x-goog-upload-url');
    if (!uploadUrl) throw new ApiError(started.status, 'upload start answered without an x-goog-upload-url header', { reason: 'server' });

    let offset = 0;
    for (;;) {
      const length = Math.min(chunkBytes, reader.size - offset);
      const last = offset + length >= reader.size;
      const bytes = await reader.read(offset, length);
      const res = await client.ensureOk(
        await client.raw('POST', uploadUrl, {
          ...call,
          // Typed as BodyInit only for ArrayBuffer-backed views; ours are (a file read or the caller's bytes).
          body: bytes as Uint8Array<ArrayBuffer>,
          headers: {
            // The SDK sends JSON's content type on binary chunks too; the server ignores it, and matching keeps us proven-compatible.
            'content-type': 'application/json',
            'x-goog-upload-command': last ? 'upload, finalize' : 'upload',
            'x-goog-upload-offset': String(offset),
            ...nameHeader,
          },
        }),
      );
      const status = res.headers.get('x-goog-upload-status');
      if (!last) {
        await res.body?.cancel().catch(() => {});
        if (status !== 'active') throw uploadStatusError(res.status, status, offset);
        offset += length;
        continue;
      }
      if (status !== 'final') {
        await res.body?.cancel().catch(() => {});
        throw uploadStatusError(res.status, status, offset);
      }
      const body = await readJson<UploadFinalResponse>(res, 'upload finalize');
      if (!body.file || typeof body.file.name !== 'string') throw new ApiError(res.status, 'upload finalize answered without a file resource', { reason: 'server' });
      return body.file;
    }
  } finally {
    await reader.close();
  }
}

export async function getFile(client: GeminiClient, name: string, options: FileCallOptions = {}): Promise<FileResource> {
  return (await client.requestJson<FileResource>('GET', `files/${fileId(name)}`, options)).body;
}

/** Every file, fetching pages lazily as the caller iterates. */
export async function* listFiles(client: GeminiClient, options: ListOptions = {}): AsyncGenerator<FileResource> {
  let pageToken: string | undefined;
  do {
    const { body } = await client.requestJson<ListFilesResponse>('GET', 'files', {
      ...options,
      query: { pageSize: options.pageSize, pageToken },
    });
    for (const f of body.files ?? []) yield f;
    pageToken = body.nextPageToken || undefined;
  } while (pageToken);
}

export async function deleteFile(client: GeminiClient, name: string, options: FileCallOptions = {}): Promise<void> {
  await client.requestJson('DELETE', `files/${fileId(name)}`, options);
}

/**
 * Streams a generated file (e.g. batch output) without holding it in memory. HTTP errors are thrown
 * before this resolves; the timeout then applies to each gap between chunks, not the whole transfer.
 */
export async function downloadFile(client: GeminiClient, name: string, options: FileCallOptions = {}): Promise<AsyncIterable<Uint8Array>> {
  const res = await client.ensureOk(
    await client.raw('GET', `${client.apiVersion || 'v1beta'}/files/${fileId(name)}:download`, { ...options, query: { alt: 'media' } }),
  );
  return iterateBody(res.body);
}

async function* iterateBody(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  let finished = false;
  try {
    // In bursts, not chunk by chunk: see read-ahead.ts (a results file read at fsync pace was quadratic).
    yield* readAhead(() => reader.read());
    finished = true;
  } finally {
    // An early break releases the connection instead of leaving the body half read.
    if (!finished) await reader.cancel().catch(() => {});
  }
}

interface SourceReader {
  size: number;
  fileName?: string;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function openSource(source: UploadSource): Promise<SourceReader> {
  if ('data' in source) {
    const data = source.data;
    return { size: data.byteLength, read: async (o, n) => data.subarray(o, o + n), close: async () => {} };
  }
  let fh: FileHandle;
  try {
    fh = await open(source.path, 'r');
  } catch (err) {
    throw new StorageError(source.path, `cannot open ${source.path} for upload: ${(err as Error).message}`);
  }
  const size = (await fh.stat()).size;
  return {
    size,
    fileName: basename(source.path),
    read: async (offset, length) => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) throw new StorageError(source.path, `${source.path} shrank while it was being uploaded`);
        got += bytesRead;
      }
      return buf;
    },
    close: () => fh.close(),
  };
}

async function readJson<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, `${what}: unparsable JSON answer`, { reason: 'network' });
  }
}

function uploadStatusError(httpStatus: number, status: string | null, offset: number): ApiError {
  return new ApiError(httpStatus, `upload at offset ${offset}: unexpected x-goog-upload-status ${JSON.stringify(status)}`, { reason: 'server' });
}
