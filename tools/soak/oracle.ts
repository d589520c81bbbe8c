/**
 * The oracle: an independent, simple model of what every member should end up as, from the same Stripe events the
 * generator sent (read from their JSON), applied in the order and at the times the member's workflow received them
 * (Temporal's history, see history.ts). It never reads memberops' state and imports none of its code.
 *
 * The documented rules it applies: duplicates change nothing; an event older than the last status-bearing event (or
 * than its own object's last event, or than a deadline that already moved the status, unless it is a payment during
 * dunning) changes nothing; dunning counts its deadlines from when the first failure was processed, and every deadline
 * that is due fires after each applied event and whenever the workflow wakes (each in deadline order).
 */
import { ACCESS, type Fact } from './oracle-rules';
import type { Activation } from './history';
import type { SoakDunningPolicy } from './options';
import { MemberModel } from './oracle-member';
import type { ClockWindow, ExpectedMember } from './oracle-types';

export type { Cause, ClockWindow, ExpectedMember, ExpectedTransition } from './oracle-types';

/**
 * The expected state of one member: its events applied activation by activation as its workflow received them, then
 * every deadline due by `asOf` (the check time), whether or not the workflow has woken up for it yet.
 */
export function expectMember(
  customerId: string,
  activations: Activation[],
  facts: ReadonlyMap<string, Fact>,
  policy: SoakDunningPolicy,
  asOf: number,
): ExpectedMember {
  const m = new MemberModel(customerId, policy);
  const strangers: string[] = [];
  for (const a of activations) {
    // The workflow clock: the task's start, moved on by each policy read (a local activity) as it resolves; other
    // local activities move it too, so it is only known to lie within `window`.
    const window: ClockWindow = { from: a.at, to: a.clockUntil };
    m.checkClock(window);
    const reads = [...a.localActivityTimes];
    let clock = a.at;
    if (a.first) clock = reads.shift() ?? clock;
    for (const id of a.eventIds) {
      const f = facts.get(id);
      if (!f) {
        strangers.push(id);
        continue;
      }
      // A new event that starts a dunning cycle reads the policy first (membership.ts `settingsOnCycleStart`).
      m.event(f, clock, window, () => (clock = reads.shift() ?? clock));
    }
    if (a.wakes) m.fireDue(clock, window);
  }
  m.fireEachUntil(asOf);
  return {
    customerId,
    status: m.status,
    allowed: ACCESS.has(m.status),
    disputed: m.disputed,
    transitions: m.transitions,
    notices: m.notices,
    tags: [...m.tags].sort(),
    tagOps: m.tagOps,
    received: m.seen,
    strangers,
    nextDeadlineAt: m.nextTimer()?.at ?? 0,
    lastDeadlineAt: m.lastDeadlineAt,
    clockAmbiguities: m.clockAmbiguities,
  };
}
