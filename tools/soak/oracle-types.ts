/** What the oracle expects of one member: its final state, the transitions that led there, notices and CRM tags. */
import type { NoticeKind, Status, Tag } from './oracle-rules';

export type Cause = { kind: 'event'; eventId: string; eventType: string } | { kind: 'timer'; timer: TimerKind };
export type TimerKind = 'dunning_reminder' | 'grace_period_end' | 'dunning_cancel' | 'period_end_cancel';

export interface ExpectedTransition {
  from: Status;
  to: Status;
  cause: Cause;
  /** When it happened on the workflow clock (undefined: a deadline the workflow has not woken up for yet). */
  window: ClockWindow | undefined;
}

/** The workflow clock during one activation: at least the task's start, at most its last local activity's end. */
export interface ClockWindow {
  from: number;
  to: number;
}

export interface ExpectedMember {
  customerId: string;
  status: Status;
  allowed: boolean;
  disputed: boolean;
  transitions: ExpectedTransition[];
  notices: Array<{ key: string; kind: NoticeKind; subject: string }>;
  /** Final tag set of the CRM contact. */
  tags: Tag[];
  /** Tag operations of CRM sync steps, each exactly once: `${key}|${op}|${tag}`. */
  tagOps: string[];
  /** Event ids the workflow received (each once), in order. */
  received: string[];
  /** Signals that were not events the generator sent (must never happen). */
  strangers: string[];
  /** The member's next deadline after `asOf` (epoch ms; 0 when none). */
  nextDeadlineAt: number;
  /** The latest deadline that fired (epoch ms; 0 when none): with `asOf` = Infinity, when the member is final. */
  lastDeadlineAt: number;
  /** Deadlines that fell within the few milliseconds the workflow clock is not known to (never seen so far). */
  clockAmbiguities: string[];
}
