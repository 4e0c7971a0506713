// `imagebatch --help | head -1` or `imagebatch generate … --json | head`: the reader goes away and our next write
// fails with EPIPE. Node reports that as an 'error' event on process.stdout, and with no listener it is thrown as an
// uncaught exception. Conventional CLIs end their output quietly instead: help still exits 0, and a run goes on
// saving to disk (its manifest is the record) and prints nothing more to that stream.

/** Errors that mean "nobody reads this stream any more". */
const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/** Makes a closed reader on `stream` end its output quietly; any other write error is still thrown. */
export function quietOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (GONE.has(err.code ?? '')) return;
    throw err;
  });
}

let installed = false;

/** quietOnClosedPipe for process.stdout and process.stderr, once per process. */
export function quietOnClosedStdio(): void {
  if (installed) return;
  installed = true;
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
}
