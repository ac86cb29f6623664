// A real HTTP server on 127.0.0.1 standing in for an integrator's endpoint (a channel callback, a
// webhook): it keeps every JSON request and answers each with the next status of a plan.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  raw: Buffer;
  body: any;
}

export interface HttpReceiver {
  url: string;
  received: ReceivedRequest[];
  /** Resolves once `count` requests (that match) have arrived. */
  waitFor(count: number, match?: (request: ReceivedRequest) => boolean): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/**
 * Answers each request with the next status of `plan`, then `finally`; `body(status, n)` is what a
 * successful answer says (n counts the requests so far). `port` 0 picks a free one; a fixed one
 * lets a test bring an endpoint back where a server already delivers (an outage).
 */
export async function startHttpReceiver({
  plan = [] as number[],
  finally: lastStatus = 200,
  body = (_status: number, _count: number): string => '',
  path = '/hooks',
  port = 0,
} = {}): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ path: request.url ?? '', headers: request.headers, raw, body: JSON.parse(raw.toString('utf8')) });
      response.statusCode = plan.shift() ?? lastStatus;
      response.end(body(response.statusCode, received.length));
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    received,
    async waitFor(count, match = () => true) {
      while (received.filter(match).length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return received.filter(match);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
