/**
 * The measured phases of `npm run bench`, in order; each memberops phase is followed by a wait until every member's
 * projection has settled, so no phase pays for the previous one's backlog.
 *
 * 1. webhooks, open loop: every event of `members` members at `rate` events/s, baseline first, then memberops; the
 *    lag from each status-changing ack to the commit of its projection comes from LISTEN/NOTIFY (no polling load);
 * 2. projection lag at rest: `lagSamples` payment failures, 20 per second, each followed by polling
 *    GET /members/:id/access every 5 ms until the new status shows (what the app sees);
 * 3. webhooks, closed loop: the events of `members` fresh members as fast as `closedConcurrency` senders go;
 * 4. access: `accessRequests` GETs of random members at `accessConcurrency` (max req/s), then the same at a fixed
 *    `accessRate` (latency at a realistic load), memberops and baseline;
 * 5. breakdown: one request at a time, where a webhook's ack time goes; the dev server's handoff ceiling.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { Db } from '../../lib/db';
import { STRIPE_WEBHOOK_PATH, webhookHeaders } from '../testkit/stripe-events';
import type { MembershipStatus } from '../../workflows/messages';
import { historyPerEvent } from './history';
import { BASELINE_ACCESS_TABLE } from './baseline-server';
import { measureBreakdown } from './breakdown';
import { paymentFailure, planMemberEvents, type EventPlan, type PlannedEvent } from './events';
import { closedLoop, httpOutcome, HttpTarget, openLoop, percentiles, pollUntil, type Outcome } from './load';
import { composeReport, type PhaseResults } from './summary';
import type { MachineInfo, Row } from './report';
import type { LagProbe, ProjectionWatch } from './projection-watch';
import { waitUntil, type ScriptProcess } from '../testkit/children';
import { cpuSnapshot, cpuUsage, type CpuUsage } from './stack';

export interface BenchOptions {
  quick: boolean;
  /** Which Temporal the run measures: the in-memory dev server or the PostgreSQL-backed cluster. */
  temporal: 'dev' | 'server';
  members: number;
  rate: number;
  maxInFlight: number;
  closedConcurrency: number;
  accessRequests: number;
  accessConcurrency: number;
  lagSamples: number;
  /** Fixed rate of the open-loop access phase. */
  accessRate: number;
  /** Extra node flags for the worker, API and baseline processes alike (e.g. --trace-gc to see GC pauses). */
  nodeFlags: string[];
  /** One member in this many also fails a payment and recovers. */
  dunningEvery: number;
}

export interface Stack {
  db: Db;
  temporal: Client;
  taskQueue: string;
  secret: string;
  apiUrl: string;
  baselineUrl: string;
  /** Keep-alive pool for readiness checks and lag probes, apart from the load's sockets. */
  probe: HttpTarget;
  /** Timestamps every projection commit (LISTEN/NOTIFY). */
  watch: ProjectionWatch;
  children: ScriptProcess[];
  /** pid → role, for the CPU account. */
  roles: Map<number, string>;
  versions: { temporalCli?: string; temporalServer?: string; postgres?: string };
  say: (m: string) => void;
}

export const LAG_POLL_MS = 5;
export const LAG_TIMEOUT_MS = 10_000;
const REST_LAG_PER_SECOND = 20;
const SETTLE_TIMEOUT_MS = 300_000;

const accessPath = (customerId: string): string => `/members/${encodeURIComponent(customerId)}/access`;

function statusIs(status: MembershipStatus | undefined) {
  return (r: { status: number; body: string }): boolean =>
    r.status === 200 && (JSON.parse(r.body) as { status?: string }).status === status;
}

/** A deterministic generator, so memberops and the baseline are asked for the same members in the same order. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function withCpu<T>(
  stack: Stack,
  fn: () => Promise<T>,
): Promise<{ result: T; cpu: CpuUsage | undefined }> {
  const before = cpuSnapshot();
  const result = await fn();
  return { result, cpu: cpuUsage(before, cpuSnapshot(), stack.roles) };
}

/**
 * Waits until every planned member shows its final status in the projection, no notice is still being sent, and no
 * projection was written for a second. Resolves to the wait in ms.
 */
export async function settle(stack: Stack, plans: EventPlan[], what: string): Promise<number> {
  const expected = new Map<string, MembershipStatus>();
  for (const p of plans) for (const [id, s] of p.finalStatus) expected.set(id, s);
  const ids = [...expected.keys()];
  const ms = await waitUntil(
    `the projection to settle after ${what}`,
    async () => {
      const rows = await stack.db.query<{ customer_id: string; status: MembershipStatus }>(
        'SELECT customer_id, status FROM memberships WHERE customer_id = ANY($1)',
        [ids],
      );
      const wrong = ids.length - rows.filter((r) => expected.get(r.customer_id) === r.status).length;
      if (wrong > 0) throw new Error(`${wrong} of ${ids.length} members not at their final status yet`);
      const [q] = await stack.db.query<{ recent: boolean; sending: string }>(
        `SELECT coalesce(max(projected_at) > now() - interval '1 second', false) AS recent,
                (SELECT count(*) FROM member_notices WHERE status <> 'sent') AS sending
         FROM memberships`,
      );
      return q !== undefined && !q.recent && Number(q.sending) === 0;
    },
    { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 200, children: stack.children },
  );
  stack.say(`settled after ${what} (${(ms / 1000).toFixed(1)} s)`);
  return ms;
}

/** Seconds from `sinceWallMs` to the newest projection write of the plan's members (how long the backlog took). */
export async function projectionCaughtUp(db: Db, plan: EventPlan, sinceWallMs: number): Promise<number> {
  const [r] = await db.query<{ last: number }>(
    'SELECT extract(epoch FROM max(projected_at)) * 1000 AS last FROM memberships WHERE customer_id = ANY($1)',
    [plan.members.map((m) => m.customerId)],
  );
  return Math.max(0, (Number(r?.last ?? sinceWallMs) - sinceWallMs) / 1000);
}

export async function runPhases(
  stack: Stack,
  o: BenchOptions,
  meta: { command: string; machine: MachineInfo; startedAt: Date; resultFile: string },
): Promise<{ text: string; rows: Row[] }> {
  const { say } = stack;
  const sockets = Math.max(o.maxInFlight, o.closedConcurrency, o.accessConcurrency);
  const memberops = new HttpTarget(stack.apiUrl, sockets);
  const baseline = new HttpTarget(stack.baselineUrl, sockets);
  const plans: EventPlan[] = [];
  const post = (target: HttpTarget, e: PlannedEvent) =>
    target.request('POST', STRIPE_WEBHOOK_PATH, webhookHeaders(e.body, stack.secret), e.body);
  // memberops answers 200 for duplicates and unhandled types too: only a handoff counts as a delivered event here.
  const memberopsOutcome = (r: { status: number; body: string }): Outcome => {
    if (r.status !== 200) return httpOutcome(r);
    const outcome = (JSON.parse(r.body) as { outcome?: string }).outcome;
    return outcome === 'handed_off' ? { ok: true } : { ok: false, kind: `outcome ${outcome ?? '?'}` };
  };
  const toBaseline = async (e: PlannedEvent): Promise<Outcome> => httpOutcome(await post(baseline, e));
  const toMemberops = async (e: PlannedEvent): Promise<Outcome> => memberopsOutcome(await post(memberops, e));
  /** Sends to memberops and, for an event that brings a new status, notes when it was sent and acked. */
  const toMemberopsNoting =
    (probes: LagProbe[]) =>
    async (e: PlannedEvent): Promise<Outcome> => {
      const sentAt = performance.now();
      const outcome = await toMemberops(e);
      if (outcome.ok && e.probeStatus)
        probes.push({ customerId: e.customerId, status: e.probeStatus, sentAt, ackAt: performance.now() });
      return outcome;
    };
  /** API polls: a status not seen within the deadline counts as the deadline (and is counted). */
  const lagOf = (samples: Array<number | undefined>) => ({
    ...percentiles(samples.map((s) => s ?? LAG_TIMEOUT_MS)),
    timeouts: samples.filter((s) => s === undefined).length,
  });
  /**
   * Commits, read after the projection settled: a status never committed was superseded while queued (the projection
   * lane coalesces to the newest state, e.g. a failure recovered before it was projected), so it has no lag.
   */
  const commitLagOf = (probes: LagProbe[]) => {
    const lags = probes.map((p) => stack.watch.lag(p));
    const seen = lags.filter((l): l is number => l !== undefined);
    return { ...percentiles(seen), superseded: lags.length - seen.length };
  };

  try {
    // ---- warm-up: JIT, connection pools, the first workflow tasks; not measured.
    const warm = planMemberEvents(o.quick ? 20 : 50, { dunningEvery: o.dunningEvery });
    plans.push(warm);
    say(`warm-up: ${warm.events.length} events to each server`);
    await closedLoop(warm.events, { concurrency: 4, deadlineMs: 120_000 }, toBaseline);
    await closedLoop(warm.events, { concurrency: 4, deadlineMs: 120_000 }, toMemberops);
    await settle(stack, plans, 'the warm-up');

    // ---- 1. webhooks, open loop at a fixed rate.
    const planA = planMemberEvents(o.members, { dunningEvery: o.dunningEvery });
    plans.push(planA);
    const openDeadline = (planA.events.length / o.rate) * 1000 * 3 + 60_000;
    const loopOpts = { rate: o.rate, maxInFlight: o.maxInFlight, deadlineMs: openDeadline };
    say(`open loop: ${planA.events.length} events of ${o.members} members at ${o.rate}/s to the baseline`);
    const baselineOpen = await withCpu(stack, () => openLoop(planA.events, loopOpts, toBaseline));
    say('open loop: the same to memberops');
    const loadProbes: LagProbe[] = [];
    const openCpuFrom = cpuSnapshot();
    const memberopsOpen = await withCpu(stack, () => openLoop(planA.events, loopOpts, toMemberopsNoting(loadProbes)));
    const openEndedAt = Date.now();
    await settle(stack, plans, 'the open loop');
    // From the first send until everything is projected: what the whole pipeline spent on these events.
    const openPipelineCpu = cpuUsage(openCpuFrom, cpuSnapshot(), stack.roles);
    const openBacklogS = await projectionCaughtUp(stack.db, planA, openEndedAt);
    const lagUnderLoad = commitLagOf(loadProbes);

    // ---- 2. projection lag at rest, as the app sees it: one payment failure at a time, paced, then poll the API.
    const restMembers = planA.members.slice(0, o.lagSamples);
    say(
      `lag at rest: ${restMembers.length} payment failures at ${REST_LAG_PER_SECOND}/s, polling every ${LAG_POLL_MS} ms`,
    );
    const restPolls: Array<Promise<number | undefined>> = [];
    const restProbes: LagProbe[] = [];
    const restEvents = restMembers.map((m) => paymentFailure(planA, m));
    const rest = await openLoop(
      restEvents,
      { rate: REST_LAG_PER_SECOND, maxInFlight: 8, deadlineMs: 120_000 },
      async (e) => {
        const outcome = await toMemberopsNoting(restProbes)(e);
        const probe = restProbes.find((p) => p.customerId === e.customerId);
        if (outcome.ok && probe) {
          restPolls.push(
            pollUntil(stack.probe, accessPath(e.customerId), statusIs(e.probeStatus), {
              sinceMs: probe.ackAt,
              intervalMs: LAG_POLL_MS,
              timeoutMs: LAG_TIMEOUT_MS,
            }),
          );
        }
        return outcome;
      },
    );
    const lagAtRest = { ...lagOf(await Promise.all(restPolls)), failed: rest.attempted - rest.ok + rest.skipped };
    await settle(stack, plans, 'the lag probes');
    const lagAtRestCommit = commitLagOf(restProbes);

    // ---- 3. webhooks, closed loop: max throughput.
    const planB = planMemberEvents(o.members, { dunningEvery: o.dunningEvery });
    plans.push(planB);
    const closedOpts = { concurrency: o.closedConcurrency, deadlineMs: 300_000 };
    say(
      `closed loop: ${planB.events.length} events of ${o.members} fresh members, ${o.closedConcurrency} senders, baseline`,
    );
    const baselineClosed = await withCpu(stack, () => closedLoop(planB.events, closedOpts, toBaseline));
    say('closed loop: memberops');
    const closedCpuFrom = cpuSnapshot();
    const memberopsClosed = await withCpu(stack, () => closedLoop(planB.events, closedOpts, toMemberops));
    const closedEndedAt = Date.now();
    await settle(stack, plans, 'the closed loop');
    const closedPipelineCpu = cpuUsage(closedCpuFrom, cpuSnapshot(), stack.roles);
    const closedBacklogS = await projectionCaughtUp(stack.db, planB, closedEndedAt);
    const history = await historyPerEvent(stack.temporal, planB, 20);

    // ---- 4. access checks.
    await stack.db.query(
      `INSERT INTO ${BASELINE_ACCESS_TABLE} (customer_id, status, allowed, reason) SELECT customer_id, status, allowed, reason FROM memberships`,
    );
    await stack.db.query(`ANALYZE memberships; ANALYZE ${BASELINE_ACCESS_TABLE}`);
    const members = (
      await stack.db.query<{ customer_id: string }>('SELECT customer_id FROM memberships ORDER BY customer_id')
    ).map((r) => r.customer_id);
    const random = seededRandom(42);
    const ids = Array.from(
      { length: o.accessRequests },
      () => members[Math.floor(random() * members.length)] as string,
    );
    const getAccess = (target: HttpTarget) => async (id: string) =>
      httpOutcome(await target.request('GET', accessPath(id)));
    const accessOpts = { concurrency: o.accessConcurrency, deadlineMs: 300_000 };
    say(
      `access: warm-up, then ${ids.length} GETs over ${members.length} members at concurrency ${o.accessConcurrency}, each server`,
    );
    await closedLoop(ids.slice(0, 500), accessOpts, getAccess(baseline));
    await closedLoop(ids.slice(0, 500), accessOpts, getAccess(memberops));
    const baselineAccess = await withCpu(stack, () => closedLoop(ids, accessOpts, getAccess(baseline)));
    const memberopsAccess = await withCpu(stack, () => closedLoop(ids, accessOpts, getAccess(memberops)));
    const fixed = ids.slice(0, Math.min(ids.length, o.accessRate * 10));
    const fixedOpts = {
      rate: o.accessRate,
      maxInFlight: 64,
      deadlineMs: (fixed.length / o.accessRate) * 3000 + 30_000,
    };
    say(`access: ${fixed.length} GETs at a fixed ${o.accessRate}/s, each server`);
    const baselineAccessFixed = await withCpu(stack, () => openLoop(fixed, fixedOpts, getAccess(baseline)));
    const memberopsAccessFixed = await withCpu(stack, () => openLoop(fixed, fixedOpts, getAccess(memberops)));

    // ---- 5. breakdown.
    say('breakdown: one request at a time, then the handoff ceiling');
    const breakdown = await measureBreakdown({
      db: stack.db,
      temporal: stack.temporal,
      taskQueue: stack.taskQueue,
      secret: stack.secret,
      memberops,
      baseline,
      accessIds: members,
      count: o.quick ? 100 : 200,
      concurrency: o.closedConcurrency,
    });

    const results: PhaseResults = {
      options: o,
      events: { open: planA.events.length, closed: planB.events.length, warmUp: warm.events.length },
      accessRows: members.length,
      open: { baseline: baselineOpen, memberops: memberopsOpen, backlogS: openBacklogS, pipelineCpu: openPipelineCpu },
      lagUnderLoad,
      lagAtRest,
      lagAtRestCommit,
      closed: {
        baseline: baselineClosed,
        memberops: memberopsClosed,
        backlogS: closedBacklogS,
        pipelineCpu: closedPipelineCpu,
        history,
      },
      access: { baseline: baselineAccess, memberops: memberopsAccess },
      accessFixed: { baseline: baselineAccessFixed, memberops: memberopsAccessFixed },
      breakdown: breakdown.rows,
      handoffCeiling: breakdown.handoffCeiling,
    };
    return composeReport(results, { ...meta, versions: stack.versions, finishedAt: new Date() });
  } finally {
    memberops.close();
    baseline.close();
  }
}
