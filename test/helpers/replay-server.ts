// A loopback server that answers with recorded Gemini answers byte for byte: status, headers and body exactly as
// stored in test/fixtures/replay. Each request takes the next answer of the script (the last one repeats).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recorded } from './replay.ts';
import type { Recorded } from './replay.ts';

export interface ReplayServer {
  url: string;
  /** Method and path of every request received, in order. */
  readonly requests: { method: string; path: string }[];
  close(): Promise<void>;
}

export async function replayServer(script: string[]): Promise<ReplayServer> {
  if (script.length === 0) throw new Error('replayServer: empty script');
  const answers: Recorded[] = script.map(recorded);
  const requests: { method: string; path: string }[] = [];
  const server = createServer((req, res) => {
    // The request body is read and dropped: the recording, not the request, decides the answer.
    req.resume();
    req.on('end', () => {
      const a = answers[Math.min(requests.length, answers.length - 1)]!;
      requests.push({ method: req.method ?? '', path: req.url ?? '' });
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
