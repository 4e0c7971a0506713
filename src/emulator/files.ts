// Files API: resumable uploads (start + chunks), get / list / delete, and downloads of generated files.
// Uploaded bytes stay in memory as the received chunks (never concatenated); generated files (batch outputs)
// are produced line by line at download time, so a big results file is never held whole; lines go out in writes of
// about 256 KiB, not one HTTP chunk per line. With `batch.spoolDir`, a generated file is also written there while
// its first download renders it, and later downloads stream that copy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileResource, ListFilesResponse } from '../gemini/wire.ts';
import type { CounterStore } from './counters.ts';
import { HttpError, invalidArgument } from './errors.ts';
import { camelizeKeys, isRecord, readBody, readJson, sendJson, timestamp } from './http.ts';
import type { Rng } from './random.ts';

const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024;
const RETENTION_MS = 48 * 3600 * 1000;
const ID_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface StoredFile {
  resource: FileResource;
  /** Uploaded content. */
  chunks?: Buffer[];
  /** Generated content, produced on demand (deterministic). */
  generate?: () => AsyncIterable<Buffer | string>;
}

interface UploadSession {
  resource: FileResource;
  declared: number | undefined;
  received: number;
  chunks: Buffer[];
}

export interface FileDeps {
  rng: Rng;
  baseUrl: () => string;
  counters: CounterStore;
  /** Where generated files are rendered once and served from (see BatchOptions.spoolDir). @default undefined */
  spoolDir?: string;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const noAccess = (id: string) =>
  new HttpError(403, `You do not have permission to access the File ${id} or it may not exist.`);

export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly sessions = new Map<string, UploadSession>();
  /** id → its rendered copy in spoolDir (the promise of the first render, shared by concurrent downloads). */
  private readonly spooled = new Map<string, Promise<string>>();

  constructor(private readonly deps: FileDeps) {}

  /** Uploaded bytes of `files/<id>` (or `<id>`), for batch input. */
  content(name: string): Buffer[] | undefined {
    return this.files.get(name.replace(/^files\//, ''))?.chunks;
  }

  has(id: string): boolean {
    return this.files.has(id);
  }

  /** Registers a generated file (e.g. `batch-<id>`), downloadable but not listed. */
  addGenerated(id: string, mimeType: string, generate: () => AsyncIterable<Buffer | string>): FileResource {
    const now = timestamp(Date.now());
    const base = this.deps.baseUrl();
    const resource: FileResource = {
      name: `files/${id}`,
      mimeType,
      createTime: now,
      updateTime: now,
      expirationTime: timestamp(Date.now() + RETENTION_MS),
      uri: `${base}/v1beta/files/${id}`,
      downloadUri: `${base}/download/v1beta/files/${id}:download?alt=media`,
      state: 'ACTIVE',
      source: 'GENERATED',
    };
    this.files.set(id, { resource, generate });
    return resource;
  }

  async uploadStart(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const protocol = header(req, 'x-goog-upload-protocol');
    const command = header(req, 'x-goog-upload-command');
    if (protocol !== 'resumable' || command?.trim() !== 'start') {
      throw invalidArgument('The emulator supports only X-Goog-Upload-Protocol: resumable with X-Goog-Upload-Command: start.');
    }
    const { value } = await readJson(req);
    const body = camelizeKeys(value);
    const meta = isRecord(body) && isRecord(body.file) ? body.file : {};
    const lengthHeader = header(req, 'x-goog-upload-header-content-length');
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    if (declared !== undefined && (!Number.isInteger(declared) || declared < 0 || declared > MAX_FILE_BYTES)) {
      throw invalidArgument(`Invalid X-Goog-Upload-Header-Content-Length: ${lengthHeader}`);
    }
    let id: string;
    if (typeof meta.name === 'string' && meta.name !== '') {
      id = meta.name.replace(/^files\//, '');
      if (id.length > 40 || !ID_RE.test(id)) {
        throw invalidArgument(`* CreateFileRequest.file.name: Invalid file name "${meta.name}": use files/ and up to 40 characters of [a-z0-9-].\n`);
      }
      if (this.files.has(id)) throw new HttpError(409, `File files/${id} already exists.`);
    } else {
      do id = this.deps.rng.id(12);
      while (this.files.has(id));
    }
    const mimeType =
      (typeof meta.mimeType === 'string' && meta.mimeType) || header(req, 'x-goog-upload-header-content-type') || 'application/octet-stream';
    const resource: FileResource = { name: `files/${id}`, mimeType };
    if (typeof meta.displayName === 'string') resource.displayName = meta.displayName;
    const uploadId = this.deps.rng.urlSafeId(48);
    this.sessions.set(uploadId, { resource, declared, received: 0, chunks: [] });
    const url = `${this.deps.baseUrl()}/upload/v1beta/files?upload_id=${uploadId}&upload_protocol=resumable`;
    res.writeHead(200, { 'x-goog-upload-url': url, 'x-goog-upload-status': 'active', 'content-length': '0' });
    res.end();
  }

  /** A chunk (or query / cancel) on an upload session; the upload id is the credential. */
  async uploadChunk(req: IncomingMessage, res: ServerResponse, uploadId: string): Promise<void> {
    const s = this.sessions.get(uploadId);
    if (!s) throw new HttpError(404, 'Upload session not found or already finalized.');
    const commands = (header(req, 'x-goog-upload-command') ?? '').split(',').map((c) => c.trim().toLowerCase());
    if (commands.includes('query')) {
      res.writeHead(200, { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(s.received), 'content-length': '0' });
      res.end();
      return;
    }
    if (commands.includes('cancel')) {
      this.sessions.delete(uploadId);
      res.writeHead(200, { 'x-goog-upload-status': 'cancelled', 'content-length': '0' });
      res.end();
      return;
    }
    if (!commands.includes('upload') && !commands.includes('finalize')) {
      throw invalidArgument(`Unknown X-Goog-Upload-Command: ${header(req, 'x-goog-upload-command') ?? '(none)'}`);
    }
    const offset = Number(header(req, 'x-goog-upload-offset') ?? 'NaN');
    if (offset !== s.received) {
      await readBody(req, 0);
      throw invalidArgument(`Invalid X-Goog-Upload-Offset ${header(req, 'x-goog-upload-offset') ?? '(none)'}: ${s.received} bytes received so far.`);
    }
    const room = (s.declared ?? MAX_FILE_BYTES) - s.received;
    const { body, tooLarge } = await readBody(req, room);
    if (tooLarge) {
      this.sessions.delete(uploadId);
      throw invalidArgument(`Upload exceeds the declared X-Goog-Upload-Header-Content-Length of ${s.declared ?? MAX_FILE_BYTES} bytes.`);
    }
    if (body.length > 0) s.chunks.push(body);
    s.received += body.length;
    if (!commands.includes('finalize')) {
      res.writeHead(200, { 'x-goog-upload-status': 'active', 'content-length': '0' });
      res.end();
      return;
    }
    if (s.declared !== undefined && s.received !== s.declared) {
      throw invalidArgument(`Upload finalized after ${s.received} bytes, but X-Goog-Upload-Header-Content-Length declared ${s.declared}.`);
    }
    this.sessions.delete(uploadId);
    const file = this.finish(s);
    this.deps.counters.upload();
    sendJson(res, 200, { file }, { 'x-goog-upload-status': 'final' });
  }

  private finish(s: UploadSession): FileResource {
    const id = s.resource.name.slice('files/'.length);
    const hash = createHash('sha256');
    for (const c of s.chunks) hash.update(c);
    const now = Date.now();
    const resource: FileResource = {
      name: s.resource.name,
      ...(s.resource.displayName !== undefined ? { displayName: s.resource.displayName } : {}),
      mimeType: s.resource.mimeType ?? 'application/octet-stream',
      sizeBytes: String(s.received),
      createTime: timestamp(now),
      updateTime: timestamp(now),
      expirationTime: timestamp(now + RETENTION_MS),
      // Google's sha256Hash is base64 of the hex digest string.
      sha256Hash: Buffer.from(hash.digest('hex')).toString('base64'),
      uri: `${this.deps.baseUrl()}/v1beta/files/${id}`,
      state: 'ACTIVE',
      source: 'UPLOADED',
    };
    this.files.set(id, { resource, chunks: s.chunks });
    return resource;
  }

  private lookup(id: string, requestType: 'GetFileRequest' | 'DeleteFileRequest'): StoredFile {
    if (id.length > 40) {
      throw invalidArgument(`* ${requestType}.name: File ID (name excluding 'files/') cannot be more than 40 characters.\n`);
    }
    const f = this.files.get(id);
    if (!f) throw noAccess(id);
    return f;
  }

  get(res: ServerResponse, id: string): void {
    sendJson(res, 200, this.lookup(id, 'GetFileRequest').resource);
  }

  delete(res: ServerResponse, id: string): void {
    this.lookup(id, 'DeleteFileRequest');
    this.files.delete(id);
    sendJson(res, 200, {});
  }

  /** Uploaded files only (generated batch outputs are not listed: UNCONFIRMED, but they cannot be fetched by get either). */
  list(res: ServerResponse, url: URL): void {
    const pageSize = Math.min(100, Math.max(1, Number(url.searchParams.get('pageSize')) || 10));
    const token = url.searchParams.get('pageToken');
    const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalidArgument('Invalid page token.');
    const all = [...this.files.values()].filter((f) => f.resource.source === 'UPLOADED');
    const page = all.slice(start, start + pageSize);
    const body: ListFilesResponse = {};
    if (page.length) body.files = page.map((f) => f.resource);
    if (start + pageSize < all.length) body.nextPageToken = Buffer.from(String(start + pageSize)).toString('base64url');
    sendJson(res, 200, body);
  }

  async download(res: ServerResponse, id: string, url: URL): Promise<void> {
    if (url.searchParams.get('alt') !== 'media') throw invalidArgument('Downloads need ?alt=media.');
    const f = this.files.get(id);
    if (!f) throw noAccess(id);
    // UNCONFIRMED: the real API refuses to download uploaded files; the exact status and text are guesses.
    if (!f.generate) throw invalidArgument(`Cannot download file files/${id}: only generated files can be downloaded.`);
    const type = f.resource.mimeType ?? 'application/octet-stream';
    const spoolDir = this.deps.spoolDir;
    if (spoolDir === undefined) {
      res.writeHead(200, { 'content-type': type });
      await pipeline(Readable.from(coalesced(f.generate())), res);
      return;
    }
    const spooled = this.spooled.get(id);
    if (!spooled) {
      // The first download renders: its bytes go to this client and into the spool file as they are made.
      const rendering = renderServingAndSpooling(f.generate, join(spoolDir, `${id}.jsonl`), res, type);
      this.spooled.set(id, rendering);
      rendering.catch(() => this.spooled.delete(id));
      await rendering;
      return;
    }
    const path = await spooled;
    res.writeHead(200, { 'content-type': type, 'content-length': String((await stat(path)).size) });
    await pipeline(createReadStream(path, { highWaterMark: SPOOL_CHUNK }), res);
  }
}

/** Bytes per write of a generated file. */
const SPOOL_CHUNK = 256 * 1024;

/** Lines joined into writes of about SPOOL_CHUNK bytes: one HTTP chunk (and syscall) per line is pure overhead. */
async function* coalesced(lines: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const line of lines) {
    const b = typeof line === 'string' ? Buffer.from(line) : line;
    parts.push(b);
    size += b.byteLength;
    if (size >= SPOOL_CHUNK) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

/** Renders a generated file to the client and into `path` (through a temp name, so a half render is never served). */
async function renderServingAndSpooling(generate: () => AsyncIterable<Buffer | string>, path: string, res: ServerResponse, type: string): Promise<string> {
  const tmp = `${path}.partial`;
  const file = createWriteStream(tmp);
  async function* tee(): AsyncGenerator<Buffer> {
    for await (const chunk of coalesced(generate())) {
      if (!file.write(chunk)) await once(file, 'drain');
      yield chunk;
    }
  }
  try {
    res.writeHead(200, { 'content-type': type });
    await pipeline(Readable.from(tee()), res);
    await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
    await rename(tmp, path);
  } catch (e) {
    file.destroy();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  return path;
}
