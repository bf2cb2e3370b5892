import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the test receiver got, and what it answered. */
export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  key: string;
  seq: number;
  raw: string;
  body: any;
  answered: number;
}

export interface TestReceiver {
  url: string;
  requests: Received[];
  /** Requests to one path (a rule's receiver), answered 2xx only when `acked`. */
  on(path: string, options?: { acked?: boolean }): Received[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1:0, as an Alertmanager webhook consumer would run one. `answer`
 * chooses the status code of each request (default 200).
 */
export async function startReceiver(answer: (request: Omit<Received, 'answered'>) => number = () => 200): Promise<TestReceiver> {
  const requests: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      const received = {
        at: Date.now(),
        path: request.url ?? '/',
        headers: request.headers,
        key: String(request.headers['idempotency-key'] ?? ''),
        seq: Number(request.headers['x-alert-sequence'] ?? 0),
        raw,
        body,
      };
      const status = answer(received);
      requests.push({ ...received, answered: status });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on: (path, options = {}) => requests.filter((request) => request.path === path && (!options.acked || request.answered < 300)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
