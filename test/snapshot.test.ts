import type { DunningPolicy, MemberEvent, MembershipStatus } from '../workflows/messages';
import { initialState, type MemberState } from '../workflows/member-state';
import { reduce } from '../workflows/reducer';
import { applySnapshot } from '../workflows/snapshot';
import type { MemberSnapshot, SnapshotSubscription } from '../workflows/snapshot-messages';

const DAY = 86_400_000;
const policy: DunningPolicy = {
  gracePeriodMs: 3 * DAY,
  remindersMs: [0, 3 * DAY, 7 * DAY],
  cancelAfterMs: 14 * DAY,
  finalAction: 'mark_canceled',
};
const T0 = Date.parse('2026-01-01T00:00:00Z');
const sec = (ms: number): number => Math.floor(ms / 1000);

function snap(
  status: SnapshotSubscription['status'] | null,
  fields: Partial<SnapshotSubscription> = {},
  takenAt = sec(T0),
): MemberSnapshot {
  return {
    snapshotId: `backfill:test:${takenAt}`,
    customerId: 'cus_1',
    takenAt,
    email: 'm@example.com',
    appUserId: 'user-1',
    subscription: status
      ? {
          id: 'sub_1',
          status,
          cancelAtPeriodEnd: false,
          cancelAt: null,
          currentPeriodEnd: sec(T0) + 20 * 86_400,
          trialEnd: null,
          ...fields,
        }
      : null,
  };
}
const event = (type: MemberEvent['type'], created: number, fields: Partial<MemberEvent> = {}): MemberEvent => ({
  eventId: `evt_${type}_${created}`,
  type,
  created,
  customerId: 'cus_1',
  objectId: 'sub_1',
  subscriptionId: 'sub_1',
  ...fields,
});
const applyAt = (s: MemberState, sn: MemberSnapshot, nowMs = T0) => applySnapshot(s, sn, nowMs, policy);

describe('a Stripe snapshot applied to a member', () => {
  it.each<[SnapshotSubscription['status'] | null, MembershipStatus]>([
    ['active', 'active'],
    ['trialing', 'trialing'],
    ['past_due', 'grace_period'],
    ['unpaid', 'past_due'],
    ['canceled', 'canceled'],
    ['paused', 'canceled'],
    ['incomplete', 'none'],
    ['incomplete_expired', 'none'],
    [null, 'none'],
  ])('sets a new member with Stripe status %s to %s without any notice', (status, expected) => {
    const out = applyAt(initialState('cus_1'), snap(status));
    expect(out.state.status).toBe(expected);
    expect(out.effects.filter((e) => e.type === 'notify')).toEqual([]);
    expect(out.state.email).toBe('m@example.com');
    expect(out.state.appUserId).toBe('user-1');
  });

  it('tags the current state once and a second identical snapshot changes nothing', () => {
    const first = applyAt(initialState('cus_1'), snap('active'));
    expect(first.effects).toEqual([expect.objectContaining({ type: 'crmSync', addTags: ['member_active'] })]);
    const second = applyAt(first.state, snap('active', {}, sec(T0) + 60), T0 + 60_000);
    expect(second.effects).toEqual([]);
    expect(second.state.version).toBe(first.state.version);
  });

  it('starts a past-due member’s deadlines from the invoice’s finalization date, counting past reminders as sent', () => {
    const failedAt = T0 - 4 * DAY;
    const out = applyAt(
      initialState('cus_1'),
      snap('past_due', { latestInvoice: { id: 'in_1', hostedInvoiceUrl: 'https://i/1', finalizedAt: sec(failedAt) } }),
    );
    expect(out.state.status).toBe('past_due');
    expect(out.state.dunning).toMatchObject({
      cycleStartedAt: new Date(failedAt).toISOString(),
      cancelsAt: new Date(failedAt + 14 * DAY).toISOString(),
      pendingReminders: [new Date(failedAt + 7 * DAY).toISOString()],
      remindersSent: 2,
      invoiceId: 'in_1',
    });
    expect(out.effects.filter((e) => e.type === 'notify')).toEqual([]);
    // The next reminder is the third (step 2), sent when it is due.
    const later = reduce(out.state, { kind: 'tick', nowMs: failedAt + 7 * DAY });
    expect(later.effects.filter((e) => e.type === 'notify')).toEqual([
      expect.objectContaining({ kind: 'dunning_reminder', key: 'cus_1:dunning:1:reminder:2' }),
    ]);
  });

  it('never moves the status back when an applied event is newer than the snapshot', () => {
    const canceled = reduce(initialState('cus_1'), {
      kind: 'event',
      event: event('customer.subscription.deleted', sec(T0) + 10, { subscriptionStatus: 'canceled' }),
      nowMs: T0,
      policy,
    }).state;
    const out = applyAt(canceled, snap('active', {}, sec(T0) + 5));
    expect(out.note).toBe('stale');
    expect(out.state.status).toBe('canceled');
  });

  it('lets an event newer than the snapshot move the state afterwards, and makes older events stale', () => {
    const snapped = applyAt(initialState('cus_1'), snap('active', {}, sec(T0) + 5)).state;
    const older = reduce(snapped, {
      kind: 'event',
      event: event('customer.subscription.updated', sec(T0), { subscriptionStatus: 'past_due' }),
      nowMs: T0,
      policy,
    });
    expect(older.note).toBe('stale');
    const newer = reduce(snapped, {
      kind: 'event',
      event: event('customer.subscription.deleted', sec(T0) + 6, { subscriptionStatus: 'canceled' }),
      nowMs: T0,
      policy,
    });
    expect(newer.state.status).toBe('canceled');
  });

  it('repairs drift: an active member whose subscription Stripe canceled becomes canceled, silently', () => {
    const active = applyAt(initialState('cus_1'), snap('active')).state;
    const out = applyAt(active, snap('canceled', {}, sec(T0) + 100), T0 + 100_000);
    expect(out.state.status).toBe('canceled');
    expect(out.state.transitions.at(-1)?.cause).toEqual({
      kind: 'snapshot',
      snapshotId: `backfill:test:${sec(T0) + 100}`,
    });
    expect(out.effects.filter((e) => e.type === 'notify')).toEqual([]);
  });

  it('keeps a member canceled by our own dunning when Stripe still says past due', () => {
    let s = applyAt(
      initialState('cus_1'),
      snap('past_due', { latestInvoice: { id: 'in_1', hostedInvoiceUrl: null, finalizedAt: sec(T0) } }),
    ).state;
    s = reduce(s, { kind: 'tick', nowMs: T0 + 15 * DAY }).state;
    expect(s.status).toBe('canceled');
    const out = applyAt(s, snap('past_due', {}, sec(T0 + 16 * DAY)), T0 + 16 * DAY);
    expect(out.state.status).toBe('canceled');
    expect(out.state.version).toBe(s.version);
  });
});
