/**
 * What the Temporal UI shows about a member, in the founder's words: the workflow's static summary (set at start by
 * the API) and its current details (Markdown, refreshed on every change of the state). Pure; no commands, so
 * recorded histories replay unchanged.
 */
import { nextDeadline } from './dunning-timers';
import { initialState, type MemberState } from './member-state';
import { DEFAULT_DUNNING_POLICY, type MemberEvent, type MembershipStatus } from './messages';
import { withOverride } from './operator-messages';
import { reduce } from './reducer';
import { applySnapshot } from './snapshot';
import type { MemberSnapshot } from './snapshot-messages';

/** `member cus_… · email`, the first line of the workflow in the Temporal UI. */
export const memberSummary = (customerId: string, email?: string | null): string =>
  email ? `member ${customerId} · ${email}` : `member ${customerId}`;

/** A member's memo in the Temporal UI: the email and app user id (upserted by the run whenever they change). */
export type MemberMemo = {
  email: string | null;
  appUserId: string | null;
};

/**
 * The memo a start sets for a new member from its first event or snapshot (which fill in a new state's email and app
 * user id as they are), so that the run's first task need not upsert it (membership.ts reads it back from
 * `workflowInfo().memo`). Nothing when neither is known.
 */
export function memoAtStart(first: {
  email?: string | null;
  appUserId?: string | null;
}): { memo: MemberMemo } | Record<string, never> {
  const memo = { email: first.email || null, appUserId: first.appUserId || null };
  return memo.email || memo.appUserId ? { memo } : {};
}

/** The member memo a run holds (`workflowInfo().memo`); null where it holds none (a start before memoAtStart). */
export function memberMemo(memo: Record<string, unknown> | undefined): MemberMemo {
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return { email: text(memo?.['email']), appUserId: text(memo?.['appUserId']) };
}

/**
 * The status a start sets for a new member: the one its first event or snapshot gives an empty state under the default
 * dunning policy (only a cycle's first status depends on it: `grace_period`, or `past_due` when a snapshot's cycle
 * started longer ago than the grace period), so that the
 * run's first task need not upsert the status it already shows (membership.ts reads it back from
 * `workflowInfo().typedSearchAttributes`). A guess the run does not confirm (a worker without a grace period, several
 * events before the first task) costs the one upsert every start made before; Temporal ignores a start's search
 * attributes when the member's workflow is already running.
 */
export function statusAtStart(
  first: { event: MemberEvent } | { snapshot: MemberSnapshot },
  nowMs: number,
): MembershipStatus {
  try {
    const outcome =
      'event' in first
        ? reduce(initialState(first.event.customerId), {
            kind: 'event',
            event: first.event,
            nowMs,
            policy: DEFAULT_DUNNING_POLICY,
          })
        : applySnapshot(initialState(first.snapshot.customerId), first.snapshot, nowMs, DEFAULT_DUNNING_POLICY);
    return outcome.state.status;
  } catch {
    // The run decides; a start whose guess failed sets `none` as starts did before.
    return 'none';
  }
}

const at = (iso: string | null | undefined): string =>
  iso ? iso.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC') : '—';

export function currentDetails(s: MemberState): string {
  const since = s.transitions[s.transitions.length - 1]?.at ?? null;
  const access = withOverride(
    { allowed: ['trialing', 'active', 'grace_period'].includes(s.status), reason: '' },
    s.accessOverride,
  );
  const deadline = nextDeadline(s);
  const lines = [
    `**${s.status}** since ${at(since)} · access ${access.allowed ? 'allowed' : 'denied'}${s.accessOverride ? ` (manual override until ${at(s.accessOverride.until)})` : ''}`,
    // A blank line, so the Markdown renders the lines below as a list.
    '',
    `- **Member:** ${s.email ?? 'no email yet'}${s.appUserId ? ` · app user ${s.appUserId}` : ''}`,
    `- **Dunning:** ${
      s.dunning
        ? `cycle ${s.dunning.cycle}, grace ends ${at(s.dunning.graceEndsAt)}, ${s.dunning.remindersSent} reminder(s) sent, cancels ${at(s.dunning.cancelsAt)}`
        : 'none'
    }${deadline ? ` · next: ${deadline.timer} at ${at(new Date(deadline.atMs).toISOString())}` : ''}`,
    `- **CRM:** ${s.crmContactId ? `Intercom contact ${s.crmContactId}` : 'no contact yet'}`,
    `- **State:** version ${s.version}, ${s.transitionCount} transition(s), updated ${at(s.updatedAt)}`,
  ];
  return lines.join('\n');
}

/** The one-line summary of a notice in the workflow history: `notice dunning_reminder 2/3`. */
export function noticeSummary(
  kind: string,
  reminderNumber: number | undefined,
  remindersInCycle: number | undefined,
): string {
  if (reminderNumber === undefined) return `notice ${kind}`;
  // reminderNumber counts the cycle's notices from 0 (the first is the payment_failed notice itself).
  return `notice ${kind} ${reminderNumber + 1}${remindersInCycle ? `/${remindersInCycle}` : ''}`;
}

/** `crm sync · tag payment_failed · untag active`: what a CRM sync changes besides the attributes. */
export function crmSummary(addTags: readonly string[], removeTags: readonly string[]): string {
  return [
    'crm sync',
    ...(addTags.length > 0 ? [`tag ${addTags.join(', ')}`] : []),
    ...(removeTags.length > 0 ? [`untag ${removeTags.join(', ')}`] : []),
  ].join(' · ');
}
