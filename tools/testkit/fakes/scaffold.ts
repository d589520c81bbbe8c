/**
 * The HTTP and fault-injection scaffold both vendor fakes stand on: a server on 127.0.0.1 with a request log, a queue
 * of injected faults (status codes, held-back responses, reset sockets, a refused port) and regex routing. What a
 * vendor answers (error shapes, auth, idempotency) stays with each fake; how a request is received, failed, delayed
 * or dropped is written once here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Json = Record<string, unknown>;

/** Which requests a fault or delay applies to; an empty match applies to all. */
export interface RequestMatch {
  method?: string;
  path?: RegExp;
}
/** `unavailable`: every call gets 503; `reset`: sockets are destroyed mid-request; `refuse`: nothing listens. */
export type DownMode = 'unavailable' | 'reset' | 'refuse';

export interface Reply {
  status: number;
  body: unknown;
}

/** The fault fields the scaffold acts on; each fake adds its vendor's own (Retry-After, error codes, …). */
export interface BaseFault {
  status: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  match?: RequestMatch;
}

export type Handler<Q> = (params: Record<string, string>, body: Json, query: Q) => Reply;
export type Route<Q> = [method: string, path: RegExp, handler: Handler<Q>];

export interface Incoming {
  method: string;
  path: string;
  url: URL;
  /** The body as received. */
  raw: string;
  headers: http.IncomingHttpHeaders;
}

/** What a fake says about one request; the scaffold decides when (and whether) it is answered. */
export interface Vendor<F extends BaseFault, E extends { status: number }> {
  /** The request log's entry for a request; the scaffold sets its `status` once the answer is chosen (0: reset). */
  record(req: Incoming): E;
  /** Headers of every answer to this request (request id, rate limits, …); a fault reply may add to them. */
  headers(req: Incoming, entry: E): Record<string, string>;
  /** The answer to an injected fault, or to every request while the fake is down as `unavailable` (a 503). */
  faultReply(fault: F | { status: 503 }, headers: Record<string, string>, entry: E): Reply;
  /** The answer when no fault applies: auth, body checks, routing. */
  answer(req: Incoming, headers: Record<string, string>, entry: E): Reply;
}

export const matchesRule = (m: RequestMatch | undefined, method: string, path: string): boolean =>
  (!m?.method || m.method.toUpperCase() === method) && (!m?.path || m.path.test(path));

/** Epoch seconds, as both vendors write times. */
export const now = (): number => Math.floor(Date.now() / 1000);

/** A load balancer's or edge proxy's error page for a 502/503 fault with `html: true`; undefined otherwise. */
export function htmlFault(f: { status: number; html?: boolean }, headers: Record<string, string>): Reply | undefined {
  if (!f.html || (f.status !== 502 && f.status !== 503)) return undefined;
  headers['Content-Type'] = 'text/html';
  return { status: f.status, body: `<html><body><h1>${f.status} ${http.STATUS_CODES[f.status]}</h1></body></html>` };
}

/**
 * Runs the first route whose method and path match. A vendor error thrown by a handler becomes its reply through
 * `onError`; anything else is a bug in the fake, logged and answered 500 instead of crashing the test process.
 */
export function dispatch<Q>(
  routes: Array<Route<Q>>,
  req: { method: string; path: string; body: Json; query: Q },
  errors: { onError(err: unknown): Reply | undefined; bug(err: unknown): Reply; notFound(): Reply },
): Reply {
  for (const [m, re, handler] of routes) {
    const hit = m === req.method ? re.exec(req.path) : null;
    if (!hit) continue;
    try {
      const params = Object.fromEntries(Object.entries(hit.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
      return handler(params, req.body, req.query);
    } catch (err) {
      const known = errors.onError(err);
      if (known) return known;
      console.error(err);
      return errors.bug(err);
    }
  }
  return errors.notFound();
}

/** One fake vendor's server: request intake, the fault and delay queues, down/up, and a clean close. */
export class FakeHttpServer<F extends BaseFault, E extends { status: number }> {
  /** Every request that reached the server, in order, including those answered by a fault or dropped. */
  readonly calls: E[] = [];
  private faults: Array<F & { times: number }> = [];
  private delays: Array<{ ms: number; times: number; match?: RequestMatch }> = [];
  private downMode: DownMode | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: http.Server;
  private port = 0;

  private constructor(private readonly vendor: Vendor<F, E>) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
  }

  /** Listens on a free port of 127.0.0.1. */
  static async start<F extends BaseFault, E extends { status: number }>(
    vendor: Vendor<F, E>,
  ): Promise<FakeHttpServer<F, E>> {
    const s = new FakeHttpServer(vendor);
    s.port = await s.listen(0);
    return s;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  fail(fault: F): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** Holds matching responses back by `ms` after the request has taken effect (the lost-response case). */
  delay(ms: number, opts?: { times?: number; match?: RequestMatch }): void {
    this.delays.push({ ms, times: opts?.times ?? 1, match: opts?.match });
  }

  /** Drops the faults and delays not used up yet; responses already held back are still sent. */
  clearFaults(): void {
    this.faults = [];
    this.delays = [];
  }

  /** Forgets calls, faults and delays, drops held-back responses, and answers normally again (a fake's `reset()`). */
  async reset(): Promise<void> {
    this.calls.length = 0;
    this.clearTimers();
    this.clearFaults();
    await this.up();
  }

  async down(mode: DownMode = 'unavailable'): Promise<void> {
    if (mode === 'refuse' && this.server.listening) await this.stopListening();
    this.downMode = mode;
  }

  /** Listens again on the same port if it was refusing, and answers normally. */
  async up(): Promise<void> {
    if (!this.server.listening) await this.listen(this.port);
    this.downMode = undefined;
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.stopListening();
  }

  /** The fault controls every fake exposes, bound to this server. */
  controls(): Pick<FakeHttpServer<F, E>, 'fail' | 'delay' | 'clearFaults' | 'down' | 'up' | 'close'> {
    return {
      fail: (f) => this.fail(f),
      delay: (ms, o) => this.delay(ms, o),
      clearFaults: () => this.clearFaults(),
      down: (mode) => this.down(mode),
      up: () => this.up(),
      close: () => this.close(),
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://fake-vendor');
    const incoming: Incoming = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      url,
      raw,
      headers: req.headers,
    };
    const entry = this.vendor.record(incoming);
    this.calls.push(entry);
    if (this.downMode === 'reset') {
      req.socket.destroy();
      return;
    }
    const headers = this.vendor.headers(incoming, entry);
    const fault = this.faults.find((f) => f.times > 0 && matchesRule(f.match, incoming.method, incoming.path));
    let reply: Reply;
    if (this.downMode === 'unavailable') reply = this.vendor.faultReply({ status: 503 }, headers, entry);
    else if (fault) {
      fault.times -= 1;
      reply = this.vendor.faultReply(fault, headers, entry);
    } else reply = this.vendor.answer(incoming, headers, entry);
    entry.status = reply.status;
    // Serialised now: a held-back response still shows the state the request left behind.
    const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(reply.status, headers);
      res.end(payload);
    };
    const hold = this.delays.find((d) => d.times > 0 && matchesRule(d.match, incoming.method, incoming.path));
    if (!hold) return send();
    hold.times -= 1;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, hold.ms);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  private async stopListening(): Promise<void> {
    this.clearTimers();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive sockets (undici and stripe-node pool them) would otherwise keep the server, and jest, alive.
    this.server.closeAllConnections();
    await closed;
  }
}
