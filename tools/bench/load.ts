/**
 * HTTP load for `npm run bench`: a keep-alive client, an open-loop driver (a fixed arrival rate, latency measured from
 * each request's scheduled time so a stalled server cannot hide its queue), a closed-loop driver (max throughput at a
 * fixed concurrency), a polling probe, and percentiles over every sample.
 */
import { kitAuthHeaders } from '../testkit/api-credentials';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HttpResult {
  status: number;
  body: string;
}

/** One server, reached over 127.0.0.1 through its own keep-alive pool (the load never shares sockets with a probe). */
export class HttpTarget {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly baseUrl: string,
    maxSockets: number,
    private readonly timeoutMs = 10_000,
  ) {
    const url = new URL(baseUrl);
    if (url.hostname !== '127.0.0.1') throw new Error(`bench traffic stays on 127.0.0.1, not ${url.hostname}`);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 });
  }

  request(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          // Every call carries the app's key, as the app does (the baseline server ignores it).
          headers: {
            ...kitAuthHeaders,
            ...headers,
            ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      // Bounded: a request that hangs is an error sample, never a stuck bench.
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles over all samples (no histogram buckets, no sampling). */
export function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number =>
    s.length ? (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number) : NaN;
  return {
    n: s.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: s.length ? (s[s.length - 1] as number) : NaN,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
  };
}

/** What a sender reports: success, or why not (an HTTP status or an error name). */
export type Outcome = { ok: true } | { ok: false; kind: string };

export interface LoadResult {
  attempted: number;
  ok: number;
  errors: Record<string, number>;
  /** Items not sent because the phase deadline passed. */
  skipped: number;
  elapsedMs: number;
  /** Successful requests per second over the phase. */
  throughput: number;
  /** Open loop: from the scheduled send time (includes waiting for a free slot); closed loop: same as service. */
  latency: Percentiles;
  /** From the moment the request was actually sent. */
  service: Percentiles;
  /** Open loop only: requests sent more than one interval after their scheduled time (cap reached or client behind). */
  lateStarts: number;
  /** The 20 slowest requests: when they were sent (s into the phase) and how long they took. */
  slowest: Array<{ atS: number; ms: number }>;
  /**
   * The slowest 1 % (which set p99) grouped into bursts of requests sent less than 50 ms apart: a few bursts mean a
   * few stalls of the server (GC, a descheduled process), not a steadily slow path.
   */
  slowBursts: { requests: number; bursts: number };
}

type Sender<T> = (item: T, index: number) => Promise<Outcome>;

async function timed<T>(send: Sender<T>, item: T, index: number): Promise<Outcome> {
  try {
    return await send(item, index);
  } catch (err) {
    return { ok: false, kind: err instanceof Error ? err.message.slice(0, 60) : 'error' };
  }
}

function summarise(
  attempted: number,
  okCount: number,
  errors: Record<string, number>,
  skipped: number,
  elapsedMs: number,
  latency: number[],
  service: number[],
  lateStarts: number,
  sentAt: number[],
): LoadResult {
  const bySlowness = latency.map((ms, i) => ({ atMs: sentAt[i] as number, ms })).sort((a, b) => b.ms - a.ms);
  const slowest = bySlowness
    .slice(0, 20)
    .map((x) => ({ atS: Math.round(x.atMs / 10) / 100, ms: Math.round(x.ms * 100) / 100 }));
  const worst = bySlowness.slice(0, Math.ceil(latency.length / 100)).sort((a, b) => a.atMs - b.atMs);
  const bursts = worst.filter((x, i) => i === 0 || x.atMs - (worst[i - 1] as { atMs: number }).atMs > 50).length;
  return {
    attempted,
    ok: okCount,
    errors,
    skipped,
    elapsedMs,
    throughput: elapsedMs > 0 ? (okCount * 1000) / elapsedMs : 0,
    latency: percentiles(latency),
    service: percentiles(service),
    lateStarts,
    slowest,
    slowBursts: { requests: worst.length, bursts },
  };
}

/**
 * Sends item i at start + i/rate, whatever the answers do (open loop), with at most `maxInFlight` outstanding.
 * Latency counts from the scheduled time, so a server that falls behind shows its queue instead of slowing the load.
 */
export async function openLoop<T>(
  items: T[],
  opts: { rate: number; maxInFlight: number; deadlineMs: number },
  send: Sender<T>,
): Promise<LoadResult> {
  const interval = 1000 / opts.rate;
  const start = performance.now() + 5;
  const deadline = start + opts.deadlineMs;
  const latency: number[] = [];
  const service: number[] = [];
  const sentAt: number[] = [];
  const errors: Record<string, number> = {};
  const running = new Set<Promise<void>>();
  let okCount = 0;
  let lateStarts = 0;
  let lastEnd = start;
  let sent = 0;
  for (let i = 0; i < items.length; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait >= 1) await sleep(wait);
    else if (i % 50 === 0) await new Promise<void>((r) => setImmediate(r)); // let answers in when behind
    while (running.size >= opts.maxInFlight) await Promise.race(running);
    if (performance.now() > deadline) break;
    const actual = performance.now();
    if (actual - scheduled > interval) lateStarts++;
    sent++;
    const p = timed(send, items[i] as T, i).then((outcome) => {
      const end = performance.now();
      lastEnd = Math.max(lastEnd, end);
      if (outcome.ok) {
        okCount++;
        // Late: the wait for the schedule counts (coordinated omission). Early (the timer's 1 ms slack): from the send.
        latency.push(end - Math.min(scheduled, actual));
        service.push(end - actual);
        sentAt.push(actual - start);
      } else errors[outcome.kind] = (errors[outcome.kind] ?? 0) + 1;
      running.delete(p);
    });
    running.add(p);
  }
  await Promise.all(running);
  return summarise(sent, okCount, errors, items.length - sent, lastEnd - start, latency, service, lateStarts, sentAt);
}

/** `concurrency` senders, each sending its next item as soon as the previous one is answered (max throughput). */
export async function closedLoop<T>(
  items: T[],
  opts: { concurrency: number; deadlineMs: number },
  send: Sender<T>,
): Promise<LoadResult> {
  const start = performance.now();
  const deadline = start + opts.deadlineMs;
  const latency: number[] = [];
  const sentAt: number[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  let okCount = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      const outcome = await timed(send, items[i] as T, i);
      if (outcome.ok) {
        okCount++;
        latency.push(performance.now() - t0);
        sentAt.push(t0 - start);
      } else errors[outcome.kind] = (errors[outcome.kind] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  const elapsed = performance.now() - start;
  return summarise(next, okCount, errors, items.length - next, elapsed, latency, latency, 0, sentAt);
}

/**
 * Polls `path` every `intervalMs` (from one poll's start to the next) until `done(body)` or `timeoutMs`.
 * Resolves to the time from `sinceMs` (a performance.now() reading) to the answer that showed it, or undefined.
 */
export async function pollUntil(
  target: HttpTarget,
  path: string,
  done: (r: HttpResult) => boolean,
  opts: { sinceMs: number; intervalMs: number; timeoutMs: number },
): Promise<number | undefined> {
  const deadline = opts.sinceMs + opts.timeoutMs;
  for (;;) {
    const t0 = performance.now();
    try {
      if (done(await target.request('GET', path))) return performance.now() - opts.sinceMs;
    } catch {
      // A failed poll is one more "not yet"; the deadline bounds the probe.
    }
    const now = performance.now();
    if (now >= deadline) return undefined;
    const wait = Math.min(t0 + opts.intervalMs, deadline) - now;
    if (wait > 0) await sleep(wait);
  }
}

/** Status code (or error) of an answer as a sender outcome. */
export function httpOutcome(r: HttpResult, okStatus = 200): Outcome {
  return r.status === okStatus ? { ok: true } : { ok: false, kind: `HTTP ${r.status}` };
}
