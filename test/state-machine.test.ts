import type { DunningPolicy, MemberEvent, MembershipStatus } from '../workflows/messages';
import { nextDeadline } from '../workflows/dunning-timers';
import { initialState, type Effect, type MemberState } from '../workflows/member-state';
import { reduce } from '../workflows/reducer';
import { statusAtStart } from '../workflows/temporal-ui';

const policy: DunningPolicy = { gracePeriodMs: 3 * 86_400_000, remindersMs: [0, 3 * 86_400_000, 7 * 86_400_000], cancelAfterMs: 14 * 86_400_000, finalAction: 'mark_canceled' };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const sec = (ms: number): number => Math.floor(ms / 1000);
let n = 0;

function ev(type: MemberEvent['type'], fields: Partial<MemberEvent> = {}): MemberEvent {
  n += 1;
  return { eventId: `evt_${n}`, type, created: sec(T0) + n, customerId: 'cus_1', objectId: 'sub_1', subscriptionId: 'sub_1', ...fields };
}
const sub = (status: MemberEvent['subscriptionStatus'], fields: Partial<MemberEvent> = {}) =>
  ev('customer.subscription.updated', { subscriptionStatus: status, ...fields });
const invoice = (type: 'invoice.paid' | 'invoice.payment_failed' | 'invoice.payment_action_required', fields: Partial<MemberEvent> = {}) =>
  ev(type, { objectId: 'in_1', invoiceId: 'in_1', amountPaid: 1000, hostedInvoiceUrl: 'https://invoice.stripe.com/i/1', ...fields });

function run(events: MemberEvent[], start: MemberState = initialState('cus_1'), nowMs = T0) {
  let state = start;
  const effects: Effect[] = [];
  for (const e of events) {
    const out = reduce(state, { kind: 'event', event: e, nowMs, policy });
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}
const tick = (state: MemberState, nowMs: number) => reduce(state, { kind: 'tick', nowMs });

describe('membership state machine', () => {
  it.each<[string, MemberEvent['subscriptionStatus'], MembershipStatus, boolean]>([
    ['incomplete waits for the first payment', 'incomplete', 'none', false],
    ['incomplete_expired ends without access', 'incomplete_expired', 'canceled', false],
    ['trialing grants a trial', 'trialing', 'trialing', true],
    ['active grants access', 'active', 'active', true],
    ['past_due starts the grace period (access kept)', 'past_due', 'grace_period', true],
    ['unpaid denies access', 'unpaid', 'past_due', false],
    ['canceled denies access', 'canceled', 'canceled', false],
    ['paused denies access', 'paused', 'canceled', false],
  ])('maps Stripe status: %s', (_name, stripeStatus, expected) => {
    const { state } = run([ev('customer.subscription.created', { subscriptionStatus: stripeStatus })]);
    expect(state.status).toBe(expected);
  });

  it('moves a new member to active on checkout and links the app user and email', () => {
    const { state } = run([
      ev('checkout.session.completed', { objectId: 'cs_1', paymentStatus: 'paid', appUserId: 'user_42', email: 'a@example.com' }),
    ]);
    expect(state.status).toBe('active');
    expect(state.appUserId).toBe('user_42');
    expect(state.email).toBe('a@example.com');
    expect(state.transitions).toHaveLength(1);
    expect(state.transitions[0]).toMatchObject({ from: 'none', to: 'active', cause: { kind: 'event', eventType: 'checkout.session.completed' } });
  });

  it('applies an event delivered three times only once', () => {
    const e = ev('customer.subscription.created', { subscriptionStatus: 'active' });
    const { state, effects } = run([e, e, e]);
    expect(state.transitions).toHaveLength(1);
    expect(effects.filter((x) => x.type === 'crmSync')).toHaveLength(1);
    expect(state.version).toBe(1);
  });

  it('keeps a member canceled when an older update arrives after a newer deletion', () => {
    const created = ev('customer.subscription.created', { subscriptionStatus: 'active' });
    const older = sub('active');
    const deletion = ev('customer.subscription.deleted', { subscriptionStatus: 'canceled' });
    const { state } = run([created, deletion, older]);
    expect(state.status).toBe('canceled');
  });

  it('never reactivates a deleted subscription, even with a newer event about it', () => {
    const { state } = run([sub('active'), ev('customer.subscription.deleted', { subscriptionStatus: 'canceled' }), sub('active')]);
    expect(state.status).toBe('canceled');
  });

  it('keeps access with cancel_at_period_end until the period ends, then cancels once', () => {
    const periodEnd = sec(T0) + 86_400;
    const { state } = run([sub('active'), sub('active', { cancelAtPeriodEnd: true, currentPeriodEnd: periodEnd })]);
    expect(state.status).toBe('active');
    expect(nextDeadline(state)).toEqual({ atMs: periodEnd * 1000, timer: 'period_end_cancel' });
    const after = tick(state, periodEnd * 1000).state;
    expect(after.status).toBe('canceled');
    expect(after.transitions.at(-1)?.cause).toEqual({ kind: 'timer', timer: 'period_end_cancel' });
    // Stripe's deletion arrives late: no second transition.
    const late = run([ev('customer.subscription.deleted', { subscriptionStatus: 'canceled', created: periodEnd + 5 })], after, periodEnd * 1000 + 10_000);
    expect(late.state.transitionCount).toBe(after.transitionCount);
    expect(late.effects.filter((e) => e.type === 'notify')).toHaveLength(0);
  });

  it('refunds in full deny access, and a partial refund changes nothing', () => {
    const base = run([sub('active')]).state;
    const partial = run([ev('charge.refunded', { objectId: 'ch_1', fullyRefunded: false, amountRefunded: 100 })], base).state;
    expect(partial.status).toBe('active');
    expect(partial.version).toBe(base.version);
    const full = run([ev('charge.refunded', { objectId: 'ch_1', fullyRefunded: true, amountRefunded: 1000 })], base).state;
    expect(full.status).toBe('refunded');
  });

  it('does not end a trial on the $0 invoice Stripe pays at trial start', () => {
    const { state } = run([sub('trialing'), invoice('invoice.paid', { amountPaid: 0 })]);
    expect(state.status).toBe('trialing');
  });

  describe('dunning', () => {
    it('moves an active member to grace_period on a failed payment and sends the first notice at once', () => {
      const { state, effects } = run([sub('active'), invoice('invoice.payment_failed')]);
      expect(state.status).toBe('grace_period');
      const notices = effects.filter((e) => e.type === 'notify');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ kind: 'payment_failed', key: 'cus_1:dunning:1:reminder:0' });
      expect(state.dunning?.graceEndsAt).toBe(new Date(T0 + policy.gracePeriodMs).toISOString());
    });

    it('moves a member to past_due when the grace period ends unpaid, then cancels at the deadline', () => {
      let { state } = run([sub('active'), invoice('invoice.payment_failed')]);
      state = tick(state, T0 + policy.gracePeriodMs).state;
      expect(state.status).toBe('past_due');
      expect(state.transitions.at(-1)?.cause).toEqual({ kind: 'timer', timer: 'grace_period_end' });
      const end = tick(state, T0 + policy.cancelAfterMs);
      expect(end.state.status).toBe('canceled');
      expect(end.state.dunning).toBeNull();
      expect(end.effects.some((e) => e.type === 'notify' && e.kind === 'canceled')).toBe(true);
    });

    it('sends each reminder once at its offset', () => {
      let { state } = run([sub('active'), invoice('invoice.payment_failed')]);
      const keys: string[] = [];
      for (const t of [T0 + 1000, T0 + 3 * 86_400_000, T0 + 3 * 86_400_000 + 5, T0 + 7 * 86_400_000]) {
        const out = tick(state, t);
        state = out.state;
        for (const e of out.effects) if (e.type === 'notify') keys.push(e.key);
      }
      expect(keys).toEqual(['cus_1:dunning:1:reminder:1', 'cus_1:dunning:1:reminder:2']);
    });

    it('recovers on payment, clears every deadline and sends one recovered notice', () => {
      const { state, effects } = run([sub('active'), invoice('invoice.payment_failed'), invoice('invoice.paid')]);
      expect(state.status).toBe('active');
      expect(state.dunning).toBeNull();
      expect(nextDeadline(state)).toBeUndefined();
      expect(effects.filter((e) => e.type === 'notify' && e.kind === 'payment_recovered')).toHaveLength(1);
      const crm = effects.filter((e): e is Extract<Effect, { type: 'crmSync' }> => e.type === 'crmSync').at(-1);
      expect(crm?.addTags).toContain('payment_recovered');
      expect(crm?.removeTags).toContain('payment_failed');
    });

    it("does not restart the cycle on Stripe's retries of the same invoice", () => {
      const { state, effects } = run([
        sub('active'),
        invoice('invoice.payment_failed', { attemptCount: 1 }),
        sub('past_due'),
        invoice('invoice.payment_failed', { attemptCount: 2 }),
        invoice('invoice.payment_failed', { attemptCount: 3 }),
      ]);
      expect(state.dunningCycles).toBe(1);
      expect(effects.filter((e) => e.type === 'notify')).toHaveLength(1);
    });

    it('uses the authentication wording when the payment needs action', () => {
      const { effects } = run([sub('active'), invoice('invoice.payment_action_required')]);
      expect(effects.find((e) => e.type === 'notify')).toMatchObject({ kind: 'payment_action_required' });
    });

    it('asks Stripe to cancel exactly once when the policy says cancel_in_stripe', () => {
      const p = { ...policy, finalAction: 'cancel_in_stripe' as const };
      let state = run([sub('active')]).state;
      state = reduce(state, { kind: 'event', event: invoice('invoice.payment_failed'), nowMs: T0, policy: p }).state;
      const end = tick(state, T0 + p.cancelAfterMs + 5000);
      expect(end.effects.filter((e) => e.type === 'cancelInStripe')).toEqual([
        { type: 'cancelInStripe', key: 'cus_1:dunning:1:cancel', subscriptionId: 'sub_1' },
      ]);
      expect(tick(end.state, T0 + p.cancelAfterMs + 10_000).effects).toHaveLength(0);
    });

    it('recovers on a payment made before the grace timer fired but delivered after it', () => {
      let { state } = run([sub('active'), invoice('invoice.payment_failed')]);
      const paidCreated = sec(T0 + policy.gracePeriodMs) - 60;
      state = tick(state, T0 + policy.gracePeriodMs).state;
      expect(state.status).toBe('past_due');
      state = run([invoice('invoice.paid', { created: paidCreated })], state, T0 + policy.gracePeriodMs + 1000).state;
      expect(state.status).toBe('active');
    });

    it('sends the pay and card-update links at once when a member in dunning asks support about billing', () => {
      let { state } = run([sub('active'), invoice('invoice.payment_failed', { failureReason: 'card_declined' })]);
      state = tick(state, T0 + policy.gracePeriodMs).state;
      const help = reduce(state, { kind: 'billingHelp', requestId: 'req_1', nowMs: T0 + policy.gracePeriodMs + 1000 });
      expect(help.effects).toEqual([
        {
          type: 'notify',
          kind: 'dunning_reminder',
          key: 'cus_1:dunning:1:support:req_1',
          data: {
            customerId: 'cus_1',
            email: null,
            appUserId: null,
            hostedInvoiceUrl: 'https://invoice.stripe.com/i/1',
            failureReason: 'card_declined',
            invoiceId: 'in_1',
            cancelsAt: new Date(T0 + policy.cancelAfterMs).toISOString(),
          },
        },
      ]);
      // Not a change of the membership, and the cycle's own deadlines stay as they were.
      expect(help.state.version).toBe(state.version);
      expect(nextDeadline(help.state)).toEqual(nextDeadline(state));
    });

    it('sends nothing for a billing question from a member who is not in dunning', () => {
      const { state } = run([sub('active')]);
      const help = reduce(state, { kind: 'billingHelp', requestId: 'req_2', nowMs: T0 });
      expect(help).toEqual({ state, effects: [], note: 'ignored' });
    });

    it('keeps the deadlines of a cycle when the state is carried over (continue-as-new)', () => {
      const { state } = run([sub('active'), invoice('invoice.payment_failed')]);
      const carried = JSON.parse(JSON.stringify(state)) as MemberState;
      expect(nextDeadline(carried)).toEqual(nextDeadline(state));
      expect(tick(carried, T0 + policy.gracePeriodMs).state.status).toBe('past_due');
    });
  });

  it('ignores a failed payment that is older than the last status-bearing event', () => {
    const { state } = run([sub('active', { created: sec(T0) + 100 }), invoice('invoice.payment_failed', { created: sec(T0) + 50 })]);
    expect(state.status).toBe('active');
  });

  it('bounds the duplicate window', () => {
    let state = initialState('cus_1');
    for (let i = 0; i < 2100; i++) {
      state = reduce(state, { kind: 'event', event: ev('charge.dispute.created', { objectId: `du_${i}` }), nowMs: T0, policy }).state;
    }
    expect(state.seenEventIds.length).toBeLessThanOrEqual(2000);
  });
});

describe('the status a start sets for a new member (statusAtStart)', () => {
  it.each([
    [sub('active'), 'active'],
    [sub('trialing', { trialEnd: sec(T0) + 86_400 }), 'trialing'],
    [sub('past_due'), 'grace_period'],
    [invoice('invoice.payment_failed'), 'none'],
    [ev('customer.subscription.deleted', { subscriptionStatus: 'canceled' }), 'canceled'],
    [ev('customer.subscription.trial_will_end'), 'none'],
  ] as const)('is the status the first event gives an empty state (%#: %s)', (event, status) => {
    expect(statusAtStart({ event }, T0 + 10_000)).toBe(status);
    // The workflow's own reading of the same event, with the worker's policy.
    expect(reduce(initialState('cus_1'), { kind: 'event', event, nowMs: T0 + 10_000, policy }).state.status).toBe(status);
  });
});
