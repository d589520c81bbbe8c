/**
 * Delivers the plan over HTTP as Stripe would: signed with the current time (the body never changes, so duplicates
 * and retries are byte-identical), each member's deliveries one at a time in plan order, a delivery that failed
 * (5xx, timeout, refused) retried with exponential back-off up to N attempts while the member's later deliveries wait.
 */
import { deliverStripeEvent } from '../testkit/stripe-events';
import type { PlannedDelivery, Plan } from './generator';

export interface Attempt {
  startedAt: number;
  endedAt: number;
  /** HTTP status; 0 when no answer came (refused, reset, timed out). */
  status: number;
  error?: string;
  /** Whether this attempt may have handed the event to the workflow (memberops may have acted before failing). */
  maybeHandedOver: boolean;
}

export interface DeliveryRecord {
  planned: PlannedDelivery;
  attempts: Attempt[];
  ackedAt?: number;
  /** memberops' answer: handed_off, duplicate, ignored_unhandled, unlinked. */
  outcome?: string;
  gaveUp: boolean;
}

/** What became of the webhook deliveries: attempts, acknowledgements, failures by kind. */
export interface DeliveryCounts {
  attempts: number;
  acked: number;
  answered5xx: number;
  answered4xx: number;
  noAnswer: number;
  retries: number;
  gaveUp: number;
  byError: Record<string, number>;
}

export const noDeliveries = (): DeliveryCounts => ({
  attempts: 0,
  acked: 0,
  answered5xx: 0,
  answered4xx: 0,
  noAnswer: 0,
  retries: 0,
  gaveUp: 0,
  byError: {},
});

export interface SenderStats extends DeliveryCounts {
  ackLatencyMs: number[];
  /** How late the first attempt went out compared with the plan (generator lag). */
  sendLagMs: number[];
}

const TIMEOUT_MS = 20_000;

class Semaphore {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'TIMEOUT';
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error ? err.message.slice(0, 40) : 'unknown';
}

export class Sender {
  readonly records: DeliveryRecord[];
  readonly stats: SenderStats = {
    ...noDeliveries(),
    ackLatencyMs: [],
    sendLagMs: [],
  };
  private readonly gate: Semaphore;
  /** Deliveries not yet acknowledged or given up. */
  pending: number;
  lastAckAt = 0;

  constructor(
    private readonly plan: Plan,
    private readonly target: { url: string; secret: string },
    private readonly opts: { concurrency: number; maxAttempts: number; log: (m: string) => void },
  ) {
    this.records = plan.deliveries.map((planned) => ({ planned, attempts: [], gaveUp: false }));
    this.gate = new Semaphore(opts.concurrency);
    this.pending = this.records.length;
  }

  /** Deliveries of one member still waiting or in retry whose plan time is before `t` (the backlog at `t`). */
  backlogBefore(t: number): number {
    return this.records.filter((r) => r.planned.atMs <= t && r.ackedAt === undefined && !r.gaveUp).length;
  }

  /** Resolves when every delivery was acknowledged or given up (or `signal` aborted). */
  async run(signal: AbortSignal): Promise<void> {
    const byMember = new Map<number, DeliveryRecord[]>();
    for (const r of this.records) {
      const list = byMember.get(r.planned.member) ?? [];
      list.push(r);
      byMember.set(r.planned.member, list);
    }
    await Promise.all([...byMember.values()].map((list) => this.memberLane(list, signal)));
  }

  private async memberLane(list: DeliveryRecord[], signal: AbortSignal): Promise<void> {
    for (const r of list) {
      await sleep(r.planned.atMs - Date.now(), signal);
      if (signal.aborted) return;
      await this.deliver(r, signal);
      this.pending -= 1;
    }
  }

  private async deliver(r: DeliveryRecord, signal: AbortSignal): Promise<void> {
    for (let n = 1; n <= this.opts.maxAttempts; n++) {
      if (signal.aborted) return;
      await this.gate.take();
      let a: Attempt;
      try {
        a = await this.attempt(r.planned.body);
      } finally {
        this.gate.give();
      }
      if (n === 1) this.stats.sendLagMs.push(a.startedAt - r.planned.atMs);
      else this.stats.retries += 1;
      r.attempts.push(a);
      this.stats.attempts += 1;
      if (a.status >= 200 && a.status < 300) {
        r.ackedAt = a.endedAt;
        this.lastAckAt = Math.max(this.lastAckAt, a.endedAt);
        this.stats.acked += 1;
        this.stats.ackLatencyMs.push(a.endedAt - a.startedAt);
        return;
      }
      const key = a.status ? `${a.status} ${a.error ?? ''}`.trim() : `no answer ${a.error ?? ''}`.trim();
      this.stats.byError[key] = (this.stats.byError[key] ?? 0) + 1;
      if (a.status >= 500) this.stats.answered5xx += 1;
      else if (a.status >= 400) {
        // A 4xx is the generator's own bug (signature, body): Stripe would not retry it either.
        this.stats.answered4xx += 1;
        this.opts.log(`delivery ${r.planned.eventId} (${r.planned.type}) refused with ${a.status} ${a.error ?? ''}`);
        break;
      } else this.stats.noAnswer += 1;
      // Stripe backs off exponentially (hours, scaled down here to seconds), with some jitter.
      await sleep(Math.min(16_000, 1000 * 2 ** (n - 1)) * (0.8 + 0.4 * Math.random()), signal);
    }
    r.gaveUp = true;
    this.stats.gaveUp += 1;
  }

  private async attempt(body: string): Promise<Attempt> {
    const startedAt = Date.now();
    try {
      const res = await deliverStripeEvent(this.target.url, body, {
        secret: this.target.secret,
        timestamp: Math.floor(startedAt / 1000),
        headers: { 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        timeoutMs: TIMEOUT_MS,
      });
      const text = await res.text();
      let json: { error?: string; outcome?: string } = {};
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        // An HTML or empty error page: the status says enough.
      }
      const endedAt = Date.now();
      const ok = res.status >= 200 && res.status < 300;
      // PostgreSQL and charge look-ups fail before the hand-off; a Temporal failure may come after the signal landed.
      const beforeHandOff =
        json.error === 'postgres_unavailable' ||
        json.error === 'stripe_unavailable' ||
        (res.status >= 400 && res.status < 500);
      return {
        startedAt,
        endedAt,
        status: res.status,
        error: ok ? json.outcome : json.error,
        maybeHandedOver: ok || !beforeHandOff,
      };
    } catch (err) {
      const code = errorCode(err);
      return { startedAt, endedAt: Date.now(), status: 0, error: code, maybeHandedOver: code !== 'ECONNREFUSED' };
    }
  }

  /** Record the memberops answer of acknowledged deliveries (for the report). */
  outcomes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.records) {
      const last = r.attempts[r.attempts.length - 1];
      if (r.ackedAt !== undefined && last?.error) {
        r.outcome = last.error;
        out[last.error] = (out[last.error] ?? 0) + 1;
      }
    }
    return out;
  }
}
