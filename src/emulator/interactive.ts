// generateContent and streamGenerateContent: admission (outage, quota, concurrency), seeded faults, emulated
// latency, then the answer, unary JSON or SSE `data: <json>\r\n\r\n` events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GenerateContentResponse } from '../gemini/wire.ts';
import { faultError, invalidArgument, pushbackFault, quotaExceeded } from './errors.ts';
import { modelRefusal } from './models.ts';
import type { AnswerContext, AnswerKind, ParsedRequest } from './generate.ts';
import { buildResponse, countFinalImages, modelProfile, parseGenerateRequest, streamChunks } from './generate.ts';
import { JSON_TYPE, MAX_JSON_BYTES, readBody } from './http.ts';
import type { FaultKind } from './options.ts';
import type { EmulatorState } from './state.ts';

const gzipAsync = promisify(gzip);

export type GenerateMethod = 'generateContent' | 'streamGenerateContent';

/** A backend's own request rules, run on the parsed JSON before the Gemini checks (Vertex: roles on contents). */
export type RequestCheck = (raw: unknown) => void;

async function parse(req: IncomingMessage, st: EmulatorState, model: string, method: GenerateMethod, apiVersion: string, check?: RequestCheck): Promise<ParsedRequest> {
  const { body, tooLarge } = await readBody(req, MAX_JSON_BYTES);
  const refused = modelRefusal(st.options, model, method, apiVersion);
  if (refused) throw refused;
  if (tooLarge) throw invalidArgument(`Request payload size exceeds the limit: ${MAX_JSON_BYTES} bytes.`);
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw invalidArgument(`Invalid JSON payload received. ${e instanceof Error ? e.message : 'Malformed JSON.'}`);
  }
  check?.(raw);
  return parseGenerateRequest(raw, modelProfile(model));
}

/** Outage, quota and concurrency, in that order; returns without side effects when the request is refused. */
function admit(st: EmulatorState, model: string, req: ParsedRequest): void {
  const now = st.now();
  const outage = st.faults.outageAt(st.elapsedEmulated(now));
  if (outage !== undefined) {
    st.counters.fault('outage');
    throw faultError(outage);
  }
  const images = req.wantsImage ? 1 : 0;
  const violation = st.quota.check(model, images, now);
  if (violation) {
    st.counters.quotaRejected(model, violation.quotaId, now + Math.ceil(violation.retryMs));
    throw quotaExceeded(violation, st.options.retryAfterHeader);
  }
  const limit = st.quota.options.concurrency;
  if (limit !== undefined && st.counters.inFlight >= limit) throw faultError(503);
  st.quota.commit(model, images, now);
}

export async function handleGenerate(
  st: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  method: GenerateMethod,
  apiVersion: string,
  check?: RequestCheck,
): Promise<void> {
  const parsed = await parse(req, st, model, method, apiVersion, check);
  st.counters.generateArrived(model, parsed.prompt, st.quota.minuteIndex(st.now()), st.now());
  admit(st, model, parsed);

  st.counters.enter();
  const gone = new AbortController();
  res.once('close', () => {
    st.counters.leave();
    gone.abort();
  });

  const fault = st.faults.pick(parsed.prompt);
  if (fault) st.counters.fault(fault);
  const latency = st.drawLatency();
  const ctx: AnswerContext = {
    profile: modelProfile(model),
    req: parsed,
    kind: answerKind(fault),
    responseId: st.ids.urlSafeId(24),
    imageBytes: st.options.imageBytes,
    signatureChars: st.options.thoughtSignatureChars,
  };

  try {
    if (fault === 'hang') {
      // Accept and never answer: the client's own timeout (or close()) ends it.
      await new Promise<void>((resolve) => gone.signal.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    if (method === 'streamGenerateContent') await sendStream(st, res, ctx, fault, latency, gone.signal);
    else await sendUnary(st, res, ctx, fault, latency, gone.signal);
  } catch (e) {
    if (gone.signal.aborted || st.closing.signal.aborted) return;
    throw e;
  }
}

function answerKind(fault: FaultKind | undefined): AnswerKind {
  return fault === 'textOnly' || fault === 'imageSafety' || fault === 'promptBlock' ? fault : 'ok';
}

const HTTP_FAULTS: Partial<Record<FaultKind, number>> = { http400: 400, http500: 500, http503: 503, http504: 504 };

/** The error answer of a fault that is an HTTP error, if it is one. */
function errorFault(fault: FaultKind | undefined, model: string) {
  if (!fault) return undefined;
  const status = HTTP_FAULTS[fault];
  if (status) return faultError(status);
  if (fault === 'billing429' || fault === 'bare429' || fault === 'capacity503') return pushbackFault(fault, model);
  return undefined;
}

async function sendUnary(st: EmulatorState, res: ServerResponse, ctx: AnswerContext, fault: FaultKind | undefined, latency: number, signal: AbortSignal) {
  await st.sleepEmulated(latency, signal);
  const failure = errorFault(fault, ctx.profile.id);
  if (failure) throw failure;
  const answer = buildResponse(ctx);
  const body = Buffer.from(JSON.stringify(answer));
  if (fault === 'reset' || fault === 'truncated') {
    // reset: the socket dies mid-body; truncated: a clean end after half a JSON document.
    res.writeHead(200, { 'content-type': JSON_TYPE });
    if (fault === 'reset') await resetAfter(res, body.subarray(0, body.length >> 1));
    else res.end(body.subarray(0, body.length >> 1));
    return;
  }
  st.counters.images(countFinalImages(answer));
  if (st.options.gzip && /\bgzip\b/i.test(String(res.req.headers['accept-encoding'] ?? ''))) {
    const packed = await gzipAsync(body, { level: 1 });
    res.writeHead(200, { 'content-type': JSON_TYPE, 'content-encoding': 'gzip', 'content-length': String(packed.length) });
    res.end(packed);
    return;
  }
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': String(body.length) });
  res.end(body);
}

/** Writes `partial`, waits until it is on the wire, then kills the socket: the client sees a body cut short. */
function resetAfter(res: ServerResponse, partial: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    res.write(partial, () => {
      res.socket?.destroy();
      resolve();
    });
  });
}

const event = (r: GenerateContentResponse) => `data: ${JSON.stringify(r)}\r\n\r\n`;

async function sendStream(st: EmulatorState, res: ServerResponse, ctx: AnswerContext, fault: FaultKind | undefined, latency: number, signal: AbortSignal) {
  // About a third of the latency passes before the first event, the rest before the image.
  await st.sleepEmulated(latency * 0.3, signal);
  const failure = errorFault(fault, ctx.profile.id);
  if (failure) throw failure;
  const answer = buildResponse(ctx);
  const chunks = streamChunks(ctx, answer);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'content-disposition': 'attachment' });
  const [first, ...rest] = chunks;
  if (fault === 'reset') {
    await resetAfter(res, event(first ?? answer));
    return;
  }
  if (first) res.write(event(first));
  if (fault === 'truncated') {
    const next = rest[0] ? event(rest[0]) : event(first ?? answer);
    res.end(next.slice(0, next.length >> 1));
    return;
  }
  await st.sleepEmulated(latency * 0.7, signal);
  for (const c of rest) res.write(event(c));
  st.counters.images(countFinalImages(answer));
  res.end();
}
