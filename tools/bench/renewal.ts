/**
 * `npm run bench -- --scenario renewal-day`: every member renews on the same day. Stripe sends each one
 * customer.subscription.updated (the new period), invoice.paid and invoice.payment_succeeded, or, for one member in
 * `failEvery`, invoice.payment_failed first and the invoice.paid of the retry last, spread evenly over `durationS`.
 * The issue's full size is 10,000 members (about 40,000 events) in 15 minutes, i.e. 44 events/s; a smaller run keeps
 * that rate by shortening the window in proportion (`--members 1000 --duration 90`).
 *
 * Before the measured window (not measured) each member checks out, so the renewals reach existing workflows. Reports
 * ack p50/p99 at the offered rate, ack → projection-commit lag p50/p99 (LISTEN/NOTIFY, every renewal event), the
 * catch-up time (last ack → last projection write), CPU per webhook event per process, and Temporal history and
 * visibility writes per renewal event; the bare baseline gets the same events at the same rate in the same run.
 */
import { performance } from 'node:perf_hooks';
import { STRIPE_WEBHOOK_PATH, newMember, stripeEvent, webhookHeaders, type MemberIds } from '../testkit/stripe-events';
import { memberWorkflowId, type MembershipStatus } from '../../workflows/messages';
import type { EventPlan, PlannedEvent } from './events';
import { historyPerEvent } from './history';
import { closedLoop, httpOutcome, HttpTarget, openLoop, percentiles, type Outcome } from './load';
import { projectionCaughtUp, settle, withCpu, type BenchOptions, type Stack } from './phases';
import type { LagProbe } from './projection-watch';
import { writeJson, fmt, met, table, cpuLine, type MachineInfo, type Row } from './report';
import { cpuUsage, cpuSnapshot, cpuMsPer } from './stack';
import { BASELINE_ROLES, MEMBEROPS_ROLES } from './summary';

/**
 * The issue's renewal day: 10,000 members, about 40,000 events, in 15 minutes (44 events/s). memberops is subscribed
 * to 3 of a renewal's events (customer.subscription.updated, invoice.paid, invoice.payment_succeeded; Stripe's
 * invoice.created/finalized and charge events are not sent to it), so `--duration` defaults to the window that keeps
 * the full day's 44 events/s for this run's event count.
 */
export const FULL_RENEWAL_DAY = { members: 10_000, events: 40_000, seconds: 900 };
export const RENEWAL_EVENTS_PER_MEMBER = 3;
export /** Projection lag p99 target on the renewal day (issue 16). */
const RENEWAL_LAG_P99_MS = 2000;

interface Planned {
  checkouts: PlannedEvent[];
  renewals: EventPlan;
}

const body = (customerId: string, e: ReturnType<typeof stripeEvent>, probeStatus?: MembershipStatus): PlannedEvent => ({
  customerId,
  type: e.type,
  body: JSON.stringify(e),
  ...(probeStatus ? { probeStatus } : {}),
});

function planRenewalDay(memberCount: number, failEvery: number): Planned {
  const members: MemberIds[] = [];
  const checkouts: PlannedEvent[] = [];
  const sequences: PlannedEvent[][] = [];
  const finalStatus = new Map<string, MembershipStatus>();
  const lastCreated = new Map<string, number>();
  const base = Math.floor(Date.now() / 1000);
  for (let i = 0; i < memberCount; i++) {
    const m = newMember();
    members.push(m);
    let created = base;
    const at = (): { created: number } => ({ created: created++ });
    checkouts.push(
      body(
        m.customerId,
        stripeEvent('checkout.session.completed', m, {
          ...at(),
          object: { client_reference_id: `user_${m.customerId.slice(5)}`, payment_status: 'paid' },
        }),
      ),
    );
    const fails = i % failEvery === failEvery - 1;
    // Every renewal event is a lag probe: the status the member shows once it is projected.
    sequences.push(
      fails
        ? [
            body(m.customerId, stripeEvent('invoice.payment_failed', m, at()), 'grace_period'),
            body(m.customerId, stripeEvent('customer.subscription.updated', m, at()), 'grace_period'),
            body(m.customerId, stripeEvent('invoice.paid', m, at()), 'active'),
          ]
        : [
            body(m.customerId, stripeEvent('customer.subscription.updated', m, at()), 'active'),
            body(m.customerId, stripeEvent('invoice.paid', m, at()), 'active'),
            body(m.customerId, stripeEvent('invoice.payment_succeeded', m, at()), 'active'),
          ],
    );
    finalStatus.set(m.customerId, 'active');
    lastCreated.set(m.customerId, created - 1);
  }
  const events: PlannedEvent[] = [];
  for (let r = 0; r < RENEWAL_EVENTS_PER_MEMBER; r++) for (const seq of sequences) if (seq[r]) events.push(seq[r]);
  return { checkouts, renewals: { members, events, finalStatus, lastCreated } };
}

export interface RenewalOptions {
  members: number;
  durationS: number;
  failEvery: number;
}

export async function runRenewalDay(
  stack: Stack,
  o: BenchOptions,
  r: RenewalOptions,
  meta: { command: string; machine: MachineInfo; startedAt: Date; resultFile: string },
): Promise<{ text: string; rows: Row[] }> {
  const { say } = stack;
  const memberops = new HttpTarget(stack.apiUrl, o.maxInFlight);
  const baseline = new HttpTarget(stack.baselineUrl, o.maxInFlight);
  const post = (target: HttpTarget, e: PlannedEvent) =>
    target.request('POST', STRIPE_WEBHOOK_PATH, webhookHeaders(e.body, stack.secret), e.body);
  const memberopsOutcome = (res: { status: number; body: string }): Outcome => {
    if (res.status !== 200) return httpOutcome(res);
    const outcome = (JSON.parse(res.body) as { outcome?: string }).outcome;
    return outcome === 'handed_off' ? { ok: true } : { ok: false, kind: `outcome ${outcome ?? '?'}` };
  };
  try {
    const plan = planRenewalDay(r.members, r.failEvery);
    const setup: EventPlan = {
      ...plan.renewals,
      events: plan.checkouts,
    };
    say(`renewal day: ${plan.checkouts.length} members check out first (not measured)`);
    await closedLoop(plan.checkouts, { concurrency: 16, deadlineMs: 600_000 }, async (e) =>
      httpOutcome(await post(baseline, e)),
    );
    await closedLoop(plan.checkouts, { concurrency: 16, deadlineMs: 600_000 }, async (e) =>
      memberopsOutcome(await post(memberops, e)),
    );
    await settle(stack, [setup], 'the check-outs');
    // History lengths of a sample before the renewals, so the renewals' own history can be told from the check-out's.
    const sample = plan.renewals.members.slice(0, 20);
    const lengthOf = async (customerId: string): Promise<number> =>
      (await stack.temporal.workflow.getHandle(memberWorkflowId(customerId)).fetchHistory()).events?.length ?? 0;
    const before = await Promise.all(sample.map((x) => lengthOf(x.customerId)));

    const events = plan.renewals.events;
    const rate = events.length / r.durationS;
    const loopOpts = { rate, maxInFlight: o.maxInFlight, deadlineMs: r.durationS * 3000 + 60_000 };
    say(
      `renewal day: ${events.length} events of ${r.members} members in ${r.durationS} s (${rate.toFixed(1)}/s), baseline`,
    );
    const baselineRun = await withCpu(stack, () =>
      openLoop(events, loopOpts, async (e) => httpOutcome(await post(baseline, e))),
    );
    say('renewal day: the same to memberops');
    const probes: LagProbe[] = [];
    const cpuFrom = cpuSnapshot();
    const memberopsRun = await withCpu(stack, () =>
      openLoop(events, loopOpts, async (e) => {
        const sentAt = performance.now();
        const outcome = memberopsOutcome(await post(memberops, e));
        if (outcome.ok && e.probeStatus)
          probes.push({ customerId: e.customerId, status: e.probeStatus, sentAt, ackAt: performance.now() });
        return outcome;
      }),
    );
    const endedAt = Date.now();
    await settle(stack, [plan.renewals], 'the renewal day');
    const pipelineCpu = cpuUsage(cpuFrom, cpuSnapshot(), stack.roles);
    const catchUpS = await projectionCaughtUp(stack.db, plan.renewals, endedAt);
    // A renewal event that changed nothing is never projected: the member's next event's commit is not its commit.
    const bySend = [...probes].sort((x, y) => x.sentAt - y.sentAt);
    const nextSend = new Map<LagProbe, number>();
    const lastOf = new Map<string, LagProbe>();
    for (const p of bySend) {
      const prev = lastOf.get(p.customerId);
      if (prev) nextSend.set(prev, p.sentAt);
      lastOf.set(p.customerId, p);
    }
    const lags = probes.map((p) => stack.watch.lag(p, nextSend.get(p)));
    const seen = lags.filter((l): l is number => l !== undefined);
    const lag = { ...percentiles(seen), unprojected: lags.length - seen.length };
    // History of the renewals only: the check-out's share is subtracted by sampling members' whole histories and
    // counting every event they received (check-out included), which is what a member's first renewal day costs.
    const history = await historyPerEvent(
      stack.temporal,
      { ...plan.renewals, events: [...plan.checkouts, ...events] },
      20,
    );

    const after = await Promise.all(sample.map((x) => lengthOf(x.customerId)));
    const sampleIds = new Set(sample.map((x) => x.customerId));
    const sampleEvents = events.filter((e) => sampleIds.has(e.customerId)).length;
    const renewalHistoryPerEvent =
      after.reduce((a, v, i) => a + v - (before[i] as number), 0) / Math.max(1, sampleEvents);

    const m = memberopsRun.result;
    const b = baselineRun.result;
    const rows: Row[] = [
      {
        metric: `renewal day: events/s accepted (offered ${rate.toFixed(1)}/s)`,
        memberops: m.throughput,
        baseline: b.throughput,
        unit: 'ev/s',
      },
      { metric: 'renewal day: ack p50', memberops: m.latency.p50, baseline: b.latency.p50, unit: 'ms' },
      { metric: 'renewal day: ack p99', memberops: m.latency.p99, baseline: b.latency.p99, unit: 'ms' },
      { metric: 'renewal day: ack → projection lag p50', memberops: lag.p50, unit: 'ms' },
      {
        metric: 'renewal day: ack → projection lag p99',
        memberops: lag.p99,
        unit: 'ms',
        target: { op: 'lt', value: RENEWAL_LAG_P99_MS },
      },
      { metric: 'renewal day: catch-up (last ack → last projection)', memberops: catchUpS, unit: 's' },
      {
        metric: 'renewal day: CPU per webhook event, whole stack',
        memberops: cpuMsPer(pipelineCpu, MEMBEROPS_ROLES, events.length),
        baseline: cpuMsPer(baselineRun.cpu, BASELINE_ROLES, events.length),
        unit: 'ms',
      },
      ...MEMBEROPS_ROLES.map((role) => ({
        metric: `  renewal day: of which ${role}`,
        memberops: cpuMsPer(pipelineCpu, [role], events.length),
        unit: 'ms' as const,
      })),
      {
        metric: 'renewal day: history events per renewal event (existing members)',
        memberops: renewalHistoryPerEvent,
        unit: 'per event',
        target: { op: 'lt', value: 6.01 },
      },
      {
        metric: 'renewal day: history events per webhook event (incl. check-out)',
        memberops: history.perEvent,
        unit: 'per event',
      },
      {
        metric: 'renewal day: visibility writes per webhook event',
        memberops: history.visibilityPerEvent,
        unit: 'per event',
      },
    ];
    const full = FULL_RENEWAL_DAY;
    const lines = [
      '',
      `memberops bench, renewal day, ${meta.startedAt.toISOString()}`,
      `command: ${meta.command}`,
      `machine: ${meta.machine.cores} cores (${meta.machine.cpuModel}), node ${meta.machine.node}; load average at start ${meta.machine.loadAverage.join(' ')}`,
      `stack: ${meta.machine.temporalServer ?? 'Temporal dev server'}, PostgreSQL ${meta.machine.postgres ?? '?'}`,
      `load: ${r.members} members checked out, then ${events.length} renewal events in ${r.durationS} s (${rate.toFixed(1)}/s; ` +
        `1 member in ${r.failEvery} fails first and pays on retry); the full renewal day is ${full.members.toLocaleString('en')} members ` +
        `and ~${full.events.toLocaleString('en')} events in ${full.seconds / 60} minutes (${(full.events / full.seconds).toFixed(1)}/s)` +
        (r.members < full.members ? ', this run is scaled down' : ''),
      '',
      table(rows),
      '',
      `targets: ${rows
        .filter((x) => x.target)
        .map((x) => `${x.metric}: ${met(x) ? 'met' : 'MISSED'}`)
        .join('; ')}`,
      `  errors: memberops ${JSON.stringify(m.errors)} (${m.skipped} unsent), baseline ${JSON.stringify(b.errors)}; ` +
        `${lag.unprojected} renewal events with no projection commit of their status (coalesced or no state change)`,
      `  lag p99 ${fmt(lag.p99, 'ms')}, max ${fmt(lag.max, 'ms')} (n=${lag.n}); history types per event: ` +
        Object.entries(history.types)
          .sort((x, y) => y[1] - x[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      `  CPU, renewal window to settled, memberops: ${cpuLine(pipelineCpu)}`,
      `  CPU, baseline: ${cpuLine(baselineRun.cpu)}`,
    ];
    writeJson(meta.resultFile, {
      command: meta.command,
      machine: meta.machine,
      options: r,
      rows,
      lag,
      history,
      memberops: m,
      baseline: b,
      pipelineCpu,
    });
    return { text: lines.join('\n'), rows };
  } finally {
    memberops.close();
    baseline.close();
  }
}
