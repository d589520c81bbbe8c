/**
 * The soak harness in `npm test`: first the oracle on hand-written event streams (milliseconds), then the short soak,
 * a month of a 100-member community played in about 70 seconds against a memberops of its own (Temporal dev server
 * with a file-backed history, a fresh database, worker and API as child processes, fake Intercom and Stripe API), with
 * Stripe's duplicates and late deliveries and every fault kind: worker SIGKILL, Temporal restart, API SIGKILL and
 * restart, PostgreSQL refusing connections, Intercom answering 429 then 500.
 * The long run (1,000 members) is `npm run soak`; see the README.
 */
import type { Activation } from '../tools/soak/history';
import { dunningPolicy } from '../tools/soak/options';
import { expectMember } from '../tools/soak/oracle';
import type { Fact } from '../tools/soak/oracle-rules';
import { formatReport, runSoak } from '../tools/soak/run';

jest.setTimeout(8 * 60_000);

describe('the soak oracle', () => {
  const policy = dunningPolicy({ dunningDaySeconds: 10 });
  const t0 = 1_800_000_000_000;
  const cus = 'cus_oracle';
  const sub = 'sub_oracle';
  const fact = (id: string, type: string, atS: number, extra: Partial<Fact> = {}): Fact => ({
    id,
    type,
    created: Math.floor(t0 / 1000) + atS,
    objectId: type.startsWith('customer.subscription') ? sub : `obj_${id}`,
    subscription: sub,
    ...extra,
  });
  const wakeUp = (at: number, eventIds: string[] = [], first = false): Activation => ({
    at,
    eventIds,
    wakes: true,
    first,
    localActivityTimes: [],
    clockUntil: at,
  });
  /** Each event received alone, just after its `created` time. */
  const received = (facts: Fact[]): Activation[] => facts.map((f, i) => wakeUp(f.created * 1000 + 50, [f.id], i === 0));
  const expect_ = (facts: Fact[], activations = received(facts)) =>
    expectMember(cus, activations, new Map(facts.map((f) => [f.id, f])), policy, Infinity);

  const active = fact('evt_1', 'customer.subscription.updated', 0, { subStatus: 'active' });
  const failed = fact('evt_2', 'invoice.payment_failed', 100);

  it('expects a payment recovered during grace to send the first reminder and a recovery notice', () => {
    const paid = fact('evt_3', 'invoice.paid', 115, { amountPaid: 2900 });
    const e = expect_([active, failed, paid]);
    expect(e.status).toBe('active');
    expect(e.transitions.map((t) => t.to)).toEqual(['active', 'grace_period', 'active']);
    expect(e.notices.map((n) => n.key)).toEqual([`${cus}:dunning:1:reminder:0`, `${cus}:dunning:1:recovered`]);
    expect(e.tags).toEqual(['member_active', 'payment_recovered']);
  });

  it('expects an unpaid cycle to end canceled after its deadlines, with every reminder', () => {
    const e = expect_([active, failed]);
    expect(e.transitions.map((t) => `${t.to}:${t.cause.kind}`)).toEqual([
      'active:event',
      'grace_period:event',
      'past_due:timer',
      'canceled:timer',
    ]);
    expect(e.notices.map((n) => n.kind)).toEqual([
      'payment_failed',
      'dunning_reminder',
      'dunning_reminder',
      'canceled',
    ]);
    expect(e.tags).toEqual(['cancelled', 'payment_failed']);
  });

  it('expects an event delivered after a newer status-bearing event to change nothing', () => {
    const deleted = fact('evt_3', 'customer.subscription.deleted', 200, { subStatus: 'canceled' });
    const lateFailure = fact('evt_4', 'invoice.payment_failed', 150);
    const e = expect_([active, deleted, lateFailure]);
    expect(e.status).toBe('canceled');
    expect(e.notices.map((n) => n.kind)).toEqual(['canceled']);
    expect(e.received).toEqual(['evt_1', 'evt_3', 'evt_4']);
  });

  it('expects a payment made before the grace deadline but received after it to recover from past_due', () => {
    const paid = fact('evt_3', 'invoice.paid', 125, { amountPaid: 2900 });
    const [a1, a2] = received([active, failed]);
    // The grace deadline (30 s after the failure) wakes the workflow before the late payment arrives at +45 s.
    const activations: Activation[] = [
      a1 as Activation,
      a2 as Activation,
      wakeUp((failed.created + 31) * 1000),
      wakeUp((failed.created + 45) * 1000, [paid.id]),
    ];
    const e = expect_([active, failed, paid], activations);
    expect(e.transitions.map((t) => t.to)).toEqual(['active', 'grace_period', 'past_due', 'active']);
    expect(e.notices.map((n) => n.kind)).toEqual(['payment_failed', 'dunning_reminder', 'payment_recovered']);
  });
});

it('replays a month of 100 members through every fault kind with nothing lost, duplicated, disagreeing or wrongly recorded', async () => {
  const lines: string[] = [];
  const report = await runSoak({
    members: 100,
    days: 30,
    // A 30-day month in 72 s; dunning days stay 8 s (grace 24 s, cancel 72 s) so every cycle ends within the run.
    speedup: 36_000,
    seed: 42,
    // Every fault kind, one after the other across the month; the timed ones (PostgreSQL refusing connections,
    // Intercom answering 429 then 500) last 5 s here (10 s in the long run).
    faults: ['worker-kill', 'temporal-restart', 'api-restart', 'pg-outage', 'intercom-faults'],
    faultSeconds: 5,
    crm: true,
    maxMinutes: 7,
    pgAdminUrl: process.env['MEMBEROPS_TEST_PG_ADMIN_URL'],
    temporalCliPath: process.env['MEMBEROPS_TEST_TEMPORAL_CLI'],
    log: (line) => lines.push(line),
  });
  if (!report.ok || process.env['SOAK_REPORT'])
    process.stderr.write(`${lines.join('\n')}\n\n${formatReport(report)}\n`);

  expect(report.failure).toBeNull();
  expect(report.faults.map((f) => [f.kind, f.caughtUpAfterMs !== null])).toEqual([
    ['worker-kill', true],
    ['temporal-restart', true],
    ['api-restart', true],
    ['pg-outage', true],
    ['intercom-faults', true],
  ]);
  expect(report.webhooks.gaveUp).toBe(0);
  expect(report.check).toMatchObject({
    mismatches: 0,
    lostEvents: 0,
    wrongStatuses: 0,
    duplicatedEffects: 0,
    disagreements: 0,
  });
  // Every delivery of the plan went out and was acknowledged (duplicates included).
  expect(report.webhooks.acked).toBe(report.events.deliveries);
});
