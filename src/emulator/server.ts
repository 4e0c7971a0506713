// HTTP server and routing. Everything is relative to the base URL the SDK is given; any API version is accepted.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkAuth } from './auth.ts';
import { answerClientError, MAX_HEADER_BYTES, MAX_URL_BYTES, uriTooLong } from './client-error.ts';
import { HttpError, notFound } from './errors.ts';
import type { GenerateMethod } from './interactive.ts';
import { handleGenerate } from './interactive.ts';
import { readBody, sendError, sendJson } from './http.ts';
import { listModels, modelRefusal, modelResource } from './models.ts';
import type { EmulatorState } from './state.ts';
import { vertexRoute } from './vertex-routes.ts';

type Handler = () => Promise<void> | void;

interface Route {
  name: string;
  /** Upload sessions are authorised by their upload id, not by the key. */
  noAuth?: boolean;
  run: Handler;
}

const isVersion = (s: string | undefined): s is string => s !== undefined && /^v\d+[a-z0-9]*$/.test(s);

function splitMethod(segment: string): [string, string | undefined] {
  const i = segment.indexOf(':');
  return i < 0 ? [segment, undefined] : [segment.slice(0, i), segment.slice(i + 1)];
}


/** Finds the handler for a request, or undefined for an unknown route. */
function route(st: EmulatorState, req: IncomingMessage, res: ServerResponse, url: URL): Route | undefined {
  const seg = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  const m = req.method ?? 'GET';
  if (seg[0] === 'upload' && isVersion(seg[1]) && seg[2] === 'files' && seg.length === 3 && m === 'POST') {
    const uploadId = url.searchParams.get('upload_id');
    if (uploadId) return { name: 'uploadChunk', noAuth: true, run: () => st.files.uploadChunk(req, res, uploadId) };
    return { name: 'uploadStart', run: () => st.files.uploadStart(req, res) };
  }
  if (seg[0] === 'download' && isVersion(seg[1]) && seg[2] === 'files' && seg.length === 4 && m === 'GET') {
    const [id, method] = splitMethod(seg[3]!);
    if (method === 'download') return { name: 'filesDownload', run: () => st.files.download(res, id, url) };
    return undefined;
  }
  const vertex = vertexRoute(st, req, res, url, seg, isVersion);
  if (vertex) return vertex;
  const [v, collection, item] = seg;
  if (!isVersion(v) || seg.length > 3) return undefined;
  if (collection === 'models') {
    if (item === undefined) {
      return m === 'GET' ? { name: 'modelsList', run: () => sendJson(res, 200, listModels(st.options, url.searchParams, v)) } : undefined;
    }
    const [model, method] = splitMethod(item);
    if (method === undefined && m === 'GET') {
      return {
        name: 'modelsGet',
        run: () => {
          const refused = modelRefusal(st.options, model, 'get', v);
          if (refused) throw refused;
          sendJson(res, 200, modelResource(model));
        },
      };
    }
    if (m !== 'POST') return undefined;
    if (method === 'generateContent' || method === 'streamGenerateContent') {
      const gm: GenerateMethod = method;
      return { name: gm, run: () => handleGenerate(st, req, res, model, gm, v) };
    }
    if (method === 'batchGenerateContent') return { name: 'batchCreate', run: () => st.batches.create(req, res, model, v) };
    return undefined;
  }
  if (collection === 'files') {
    if (item === undefined) return m === 'GET' ? { name: 'filesList', run: () => st.files.list(res, url) } : undefined;
    const [id, method] = splitMethod(item);
    if (method === 'download' && m === 'GET') return { name: 'filesDownload', run: () => st.files.download(res, id, url) };
    if (method !== undefined) return undefined;
    if (m === 'GET') return { name: 'filesGet', run: () => st.files.get(res, id) };
    if (m === 'DELETE') return { name: 'filesDelete', run: () => st.files.delete(res, id) };
    return undefined;
  }
  if (collection === 'batches') {
    if (item === undefined) return m === 'GET' ? { name: 'batchesList', run: () => st.batches.list(res, url) } : undefined;
    const [id, method] = splitMethod(item);
    // The docs' curl examples cancel without -X POST and delete via POST :delete; tolerate both.
    if (method === 'cancel' && (m === 'POST' || m === 'GET')) return { name: 'batchesCancel', run: () => st.batches.cancel(res, id) };
    if ((method === undefined && m === 'DELETE') || (method === 'delete' && (m === 'POST' || m === 'DELETE'))) {
      return { name: 'batchesDelete', run: () => st.batches.delete(res, id) };
    }
    if (method === undefined && m === 'GET') return { name: 'batchesGet', run: () => st.batches.get(res, id) };
    return undefined;
  }
  return undefined;
}

async function handle(st: EmulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = st.now();
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  let r: Route | undefined;
  const tooLong = (req.url ?? '').length > MAX_URL_BYTES;
  try {
    if (!tooLong) r = route(st, req, res, url);
  } catch {
    // A malformed path (bad %-escape): treated as an unknown route.
  }
  st.counters.request(r?.name ?? 'unknown');
  res.once('close', () => {
    const outcome = res.writableFinished ? res.statusCode : res.headersSent ? 'reset' : 'aborted';
    st.counters.answered(outcome);
    // The path only: the query may hold ?key=.
    st.log(`${req.method ?? '?'} ${url.pathname} ${outcome} ${Math.round(st.now() - started)}ms`);
  });
  try {
    if (tooLong) throw uriTooLong();
    if (!r?.noAuth) {
      const denied = checkAuth(req, url, st.options.apiKey);
      if (denied) throw denied;
    }
    if (!r) throw notFound(`Method not found: ${req.method ?? '?'} ${url.pathname}`);
    await r.run();
  } catch (e) {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    // Drain what the client still sends so it sees the answer instead of a reset.
    if (!req.complete) await readBody(req, 0).catch(() => undefined);
    if (e instanceof HttpError) sendError(res, e);
    else {
      st.log(`internal error: ${e instanceof Error ? e.message : String(e)}`);
      sendError(res, new HttpError(500, 'Internal error in the emulator.'));
    }
  }
}

export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function listen(st: EmulatorState): Promise<Listening> {
  const sockets = new Set<Socket>();
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    handle(st, req, res).catch(() => res.destroy());
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(st, err, socket));
  // Hang faults must hang for as long as the client waits.
  server.requestTimeout = 0;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(st.options.port, st.options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('emulator: server has no TCP address');
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  let closed: Promise<void> | undefined;
  return {
    server,
    url,
    close() {
      closed ??= new Promise<void>((resolve) => {
        st.closing.abort();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
