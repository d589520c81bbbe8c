/** The console's operator actions as pure decisions: what the validators refuse and what each accepted action changes. */
import { initialState, toView, type MemberState } from '../workflows/member-state';
import {
  expireOverride,
  extendGrace,
  earliestDeadline,
  resendPaymentLink,
  setAccessOverride,
  validateAccessOverride,
  validateExtendGrace,
  validateResendPaymentLink,
} from '../workflows/operator-actions';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');
const policy = {
  gracePeriodMs: 3 * DAY,
  remindersMs: [0],
  cancelAfterMs: 14 * DAY,
  finalAction: 'mark_canceled' as const,
};

function inGrace(graceDays = 3, cancelDays = 14): MemberState {
  return {
    ...initialState('cus_ops'),
    status: 'grace_period',
    version: 3,
    dunning: {
      cycleStartedAt: new Date(NOW).toISOString(),
      graceEndsAt: new Date(NOW + graceDays * DAY).toISOString(),
      cancelsAt: new Date(NOW + cancelDays * DAY).toISOString(),
      pendingReminders: [],
      remindersSent: 1,
      policy,
      cycle: 2,
      hostedInvoiceUrl: 'https://invoice.stripe.com/i/x',
    },
  };
}
const base = { actionId: 'a1', by: 'founder@x.test' };

describe('extending the grace period', () => {
  it.each([
    [
      'no grace period is running',
      { ...initialState('cus_ops'), status: 'active' as const },
      2 * DAY,
      'no grace period is running (the member is active)',
    ],
    [
      'past_due',
      { ...inGrace(), status: 'past_due' as const },
      2 * DAY,
      'no grace period is running (the member is past_due)',
    ],
    ['more than the maximum', inGrace(), 8 * DAY, 'a grace period can be extended by at most 7 days at a time'],
    ['zero', inGrace(), 0, 'the extension must be longer than zero'],
  ])('refuses an extension when %s', (_name, state, extendByMs, message) => {
    expect(() => validateExtendGrace(state, { ...base, extendByMs, reason: 'r' }, 7 * DAY)).toThrow(message);
  });

  it('refuses an extension without a reason', () => {
    expect(() => validateExtendGrace(inGrace(), { ...base, extendByMs: DAY, reason: '  ' }, 7 * DAY)).toThrow(
      'a reason is required',
    );
  });

  it('moves the grace end, keeps the final cancel when it is later, and makes a new version', () => {
    const out = extendGrace(inGrace(), { ...base, extendByMs: 2 * DAY, reason: 'r' }, NOW + DAY);
    expect(out.state.dunning?.graceEndsAt).toBe(new Date(NOW + 5 * DAY).toISOString());
    expect(out.state.dunning?.cancelsAt).toBe(new Date(NOW + 14 * DAY).toISOString());
    expect(out.state.version).toBe(4);
    expect(out.effects).toEqual([]);
  });

  it('moves the final cancel with the grace end when the grace would outlast it', () => {
    const out = extendGrace(inGrace(3, 4), { ...base, extendByMs: 3 * DAY, reason: 'r' }, NOW);
    expect(out.state.dunning?.cancelsAt).toBe(new Date(NOW + 6 * DAY).toISOString());
  });
});

describe('resending the payment link', () => {
  it('refuses when there is nothing to pay', () => {
    expect(() => validateResendPaymentLink({ ...initialState('cus_ops'), status: 'active' })).toThrow(
      'there is no unpaid invoice to send a link for (the member is active)',
    );
  });

  it('queues one notice keyed by the cycle and the action', () => {
    const out = resendPaymentLink(inGrace(), 'a1', NOW);
    expect(out.effects).toEqual([
      expect.objectContaining({ type: 'notify', kind: 'dunning_reminder', key: 'cus_ops:dunning:2:operator:a1' }),
    ]);
  });
});

describe('the manual access override', () => {
  it('revokes access whatever the status, with the reason, until it ends', () => {
    const out = setAccessOverride(inGrace(), { ...base, mode: 'revoke', forMs: DAY, reason: 'chargeback' }, NOW);
    const view = toView(out.state);
    expect(view.allowed).toBe(false);
    expect(view.reason).toBe(`access revoked manually until ${new Date(NOW + DAY).toISOString()}: chargeback`);
    expect(earliestDeadline(undefined, out.state)).toEqual({ atMs: NOW + DAY, timer: 'access_override_end' });
    const later = expireOverride(out.state, NOW + DAY);
    expect(toView(later.state).allowed).toBe(true);
    expect(later.state.version).toBe(out.state.version + 1);
  });

  it('grants access to a past_due member', () => {
    const out = setAccessOverride(
      { ...inGrace(), status: 'past_due' },
      { ...base, mode: 'grant', forMs: DAY, reason: 'promised to pay' },
      NOW,
    );
    expect(toView(out.state).allowed).toBe(true);
  });

  it.each([
    ['no reason', { mode: 'grant' as const, forMs: DAY, reason: '' }, 'a reason is required'],
    [
      'longer than a year',
      { mode: 'grant' as const, forMs: 400 * DAY, reason: 'r' },
      'an override can last at most 365 days',
    ],
    [
      'nothing to remove',
      { mode: 'clear' as const, forMs: 0, reason: '' },
      'there is no manual access override to remove',
    ],
  ])('refuses an override with %s', (_name, input, message) => {
    expect(() => validateAccessOverride(inGrace(), { ...base, ...input })).toThrow(message);
  });

  it('leaves an override that has not ended', () => {
    const out = setAccessOverride(inGrace(), { ...base, mode: 'grant', forMs: DAY, reason: 'r' }, NOW);
    expect(expireOverride(out.state, NOW + DAY - 1).state).toBe(out.state);
  });
});
