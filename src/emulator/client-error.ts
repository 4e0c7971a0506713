// Requests Node's HTTP parser refuses before any handler runs (headers too large, malformed HTTP) and URLs past
// Google's length limit: answered with Google's JSON error envelope instead of Node's empty 431 / bare 400.
// Google's front end (GFE) answers these with a small HTML page at the same statuses (400 "Your client has issued a
// malformed or illegal request", 414 "The requested URL is too large to process"); the emulator keeps the statuses
// and gives the JSON shape every other error has, so a client can rely on the status alone, as it must with Google.
import type { Duplex } from 'node:stream';
import { HttpError } from './errors.ts';
import { JSON_TYPE } from './http.ts';
import type { EmulatorState } from './state.ts';

/** Longest request target accepted (path and query), in characters. */
export const MAX_URL_BYTES = 16 * 1024;
/** Node's parser limit for the request line plus headers; above Node's 16 KiB default so a long URL reaches the 414. */
export const MAX_HEADER_BYTES = 64 * 1024;

export const uriTooLong = (): HttpError =>
  new HttpError(414, `The requested URL is too large to process (the limit is ${MAX_URL_BYTES} characters).`, { status: 'INVALID_ARGUMENT' });

const REASONS: Record<number, string> = { 400: 'Bad Request', 414: 'URI Too Long', 431: 'Request Header Fields Too Large' };

function errorFor(err: NodeJS.ErrnoException): HttpError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return new HttpError(431, `Request header fields too large (the limit is ${MAX_HEADER_BYTES} bytes for the request line and headers).`, {
      status: 'INVALID_ARGUMENT',
    });
  }
  return new HttpError(400, 'Your client has issued a malformed or illegal request.');
}

/** Node's 'clientError': the socket may only take raw bytes now, then closes. Resets and timeouts get no answer. */
export function answerClientError(st: EmulatorState, err: NodeJS.ErrnoException, socket: Duplex): void {
  st.counters.request('unknown');
  if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
    st.counters.answered('aborted');
    socket.destroy();
    return;
  }
  const e = errorFor(err);
  const body = JSON.stringify(e.body);
  st.counters.answered(e.httpStatus);
  st.log(`malformed request: ${err.code ?? 'error'} → ${e.httpStatus}`);
  socket.end(
    `HTTP/1.1 ${e.httpStatus} ${REASONS[e.httpStatus] ?? 'Error'}\r\n` +
      `Content-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
