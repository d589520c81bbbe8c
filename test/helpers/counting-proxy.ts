/**
 * A proxy in front of a real API that counts the requests it forwards, per path, so a test can tell a cached answer
 * (no request) from a fresh one; and that can hold requests unanswered, to test a caller's deadline.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  url: string;
  /** Requests forwarded so far for a path (pathname, query excluded). */
  count(pathname: string): number;
  /** While true, requests are held without an answer (until close). */
  stall: boolean;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  const held: IncomingMessage[] = [];
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    if (proxy.stall) {
      held.push(req);
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://proxy').pathname;
    counts.set(pathname, (counts.get(pathname) ?? 0) + 1);
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: CountingProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: (pathname) => counts.get(pathname) ?? 0,
    stall: false,
    async close() {
      for (const req of held) req.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
