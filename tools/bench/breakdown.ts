/**
 * Where a webhook's ack time goes, measured piece by piece, one request at a time on an otherwise idle stack: the
 * CPU of signature verification and event parsing, one PostgreSQL write, one signalWithStart to the Temporal dev
 * server, and the whole HTTP round trip of memberops and of the baseline.
 */
import type { Client } from '@temporalio/client';
import { performance } from 'node:perf_hooks';
import Stripe from 'stripe';
import { signalMemberWorkflow } from '../../lib/process-stripe-event';
import { normalizeStripeEvent, stripeEventEnvelope } from '../../lib/stripe-events';
import type { Db } from '../../lib/db';
import { sign, STRIPE_WEBHOOK_PATH, webhookHeaders } from '../testkit/stripe-events';
import type { MemberEvent } from '../../workflows/messages';
import { BASELINE_EVENTS_TABLE } from './baseline-server';
import { planMemberEvents, type PlannedEvent } from './events';
import { closedLoop, percentiles, type HttpTarget, type LoadResult, type Percentiles } from './load';

export interface BreakdownRow {
  step: string;
  unit: 'µs' | 'ms';
  result: Percentiles;
}

export interface BreakdownDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  secret: string;
  memberops: HttpTarget;
  baseline: HttpTarget;
  /** Member ids known to both access endpoints. */
  accessIds: string[];
  /** Sequential requests per network step. */
  count: number;
  /** Concurrent callers for the handoff ceiling. */
  concurrency: number;
}

export interface Breakdown {
  rows: BreakdownRow[];
  /** signalWithStart alone, `concurrency` callers, to a task queue no worker polls: the dev server's handoff limit. */
  handoffCeiling: LoadResult;
}

async function sequential(count: number, fn: (i: number) => Promise<void> | void): Promise<Percentiles> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  return percentiles(samples);
}

const toMicros = (p: Percentiles): Percentiles => ({
  n: p.n,
  p50: p.p50 * 1000,
  p90: p.p90 * 1000,
  p99: p.p99 * 1000,
  max: p.max * 1000,
  mean: p.mean * 1000,
});

function memberEventOf(e: PlannedEvent): MemberEvent {
  const n = normalizeStripeEvent(stripeEventEnvelope.parse(JSON.parse(e.body)));
  if (n.kind !== 'member') throw new Error(`bench plan event ${e.type} does not reach a member`);
  return n.event;
}

function expectOk(status: number, what: string): void {
  if (status !== 200) throw new Error(`${what} answered HTTP ${status} during the breakdown`);
}

export async function measureBreakdown(d: BreakdownDeps): Promise<Breakdown> {
  const rows: BreakdownRow[] = [];
  const fresh = (n: number): PlannedEvent[] => planMemberEvents(n, { dunningEvery: Number.MAX_SAFE_INTEGER }).events;
  const sample = fresh(1)[0] as PlannedEvent;
  const header = sign(sample.body, d.secret);
  const cpuCount = 2000;

  rows.push({
    step: 'verify signature (Stripe.webhooks.constructEvent, CPU)',
    unit: 'µs',
    result: toMicros(
      await sequential(cpuCount, () => void Stripe.webhooks.constructEvent(sample.body, header, d.secret)),
    ),
  });
  const parsed: unknown = JSON.parse(sample.body);
  rows.push({
    step: 'validate + normalize the event (zod, CPU)',
    unit: 'µs',
    result: toMicros(await sequential(cpuCount, () => void normalizeStripeEvent(stripeEventEnvelope.parse(parsed)))),
  });

  const inserts = fresh(d.count);
  rows.push({
    step: 'one PostgreSQL INSERT (pool round trip)',
    unit: 'ms',
    result: await sequential(d.count, async (i) => {
      const e = inserts[i] as PlannedEvent;
      await d.db.query(
        `INSERT INTO ${BASELINE_EVENTS_TABLE} (id, type, created_at, customer_id) VALUES ($1, $2, now(), $3)`,
        [`evt_breakdown_${i}_${e.customerId}`, e.type, e.customerId],
      );
    }),
  });

  // The API's own hand-off (lib/process-stripe-event.ts), against the worker's task queue by default.
  const signalWithStart = (event: MemberEvent, taskQueue = d.taskQueue) =>
    signalMemberWorkflow(d.temporal, taskQueue, event);
  const plan = planMemberEvents(d.count, { dunningEvery: Number.MAX_SAFE_INTEGER });
  const firsts = plan.events.slice(0, d.count).map(memberEventOf);
  const seconds = plan.events.slice(d.count, 2 * d.count).map(memberEventOf);
  const idle = fresh(d.count).slice(0, d.count).map(memberEventOf);
  rows.push({
    // The same call when no worker competes for the dev server's single SQLite writer.
    step: 'signalWithStart, new workflow, queue without a worker',
    unit: 'ms',
    result: await sequential(
      d.count,
      async (i) => void (await signalWithStart(idle[i] as MemberEvent, `${d.taskQueue}-no-worker`)),
    ),
  });
  rows.push({
    step: 'signalWithStart, new workflow (Temporal round trip)',
    unit: 'ms',
    result: await sequential(d.count, async (i) => void (await signalWithStart(firsts[i] as MemberEvent))),
  });
  rows.push({
    step: 'signalWithStart, running workflow (Temporal round trip)',
    unit: 'ms',
    result: await sequential(d.count, async (i) => void (await signalWithStart(seconds[i] as MemberEvent))),
  });

  /** The same sequential measurement against memberops, then the baseline. */
  const bothTargets = async (
    step: string,
    run: (target: HttpTarget, what: string) => (i: number) => Promise<void>,
    what: string,
  ): Promise<void> => {
    for (const [name, target] of [
      ['memberops', d.memberops],
      ['baseline', d.baseline],
    ] as const) {
      rows.push({
        step: `${step}, ${name}`,
        unit: 'ms',
        result: await sequential(d.count, run(target, `${name} ${what}`)),
      });
    }
  };
  const webhooks = fresh(d.count).slice(0, d.count);
  const post = (target: HttpTarget, what: string) => async (i: number) => {
    const e = webhooks[i] as PlannedEvent;
    const r = await target.request('POST', STRIPE_WEBHOOK_PATH, webhookHeaders(e.body, d.secret), e.body);
    expectOk(r.status, what);
  };
  await bothTargets('whole webhook ack over HTTP', post, 'webhook');

  const get = (target: HttpTarget, what: string) => async (i: number) => {
    const r = await target.request('GET', `/members/${d.accessIds[i % d.accessIds.length] as string}/access`);
    expectOk(r.status, what);
  };
  await bothTargets('GET /members/:id/access over HTTP', get, 'access');

  // Workflows on a queue nobody polls only cost the server their start and signal: the most it can take in.
  const ceilingEvents = fresh(d.count * 5)
    .slice(0, d.count * 5)
    .map(memberEventOf);
  const handoffCeiling = await closedLoop(
    ceilingEvents,
    { concurrency: d.concurrency, deadlineMs: 120_000 },
    async (e) => {
      await signalWithStart(e, `${d.taskQueue}-no-worker`);
      return { ok: true };
    },
  );
  return { rows, handoffCeiling };
}
