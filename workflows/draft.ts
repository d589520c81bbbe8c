/** The working copy of a member's state while one input is applied, and the effects that input asks for. */
import type { MembershipStatus, TransitionCause } from './messages';
import { tagsForTransition } from './crm-tags';
import { iso, type Effect, type MemberState, type NoticeData, type NoticeKind, type Outcome } from './member-state';

const TRANSITION_WINDOW = 100;

/** Working copy plus the effects collected while applying one input. */
export class Draft {
  readonly effects: Effect[] = [];
  changed = false;
  constructor(
    public s: MemberState,
    readonly nowMs: number,
  ) {}

  set<K extends keyof MemberState>(key: K, value: MemberState[K]): void {
    if (JSON.stringify(this.s[key]) === JSON.stringify(value)) return;
    this.s = { ...this.s, [key]: value };
    this.changed = true;
  }

  /** Ordering and dedupe bookkeeping: kept in state, but not a change of the membership (no new version). */
  note<K extends 'seenEventIds' | 'objectAsOf' | 'statusAsOf' | 'timerAsOf'>(key: K, value: MemberState[K]): void {
    this.s = { ...this.s, [key]: value };
  }

  transition(to: MembershipStatus, cause: TransitionCause): void {
    const from = this.s.status;
    if (from === to) return;
    const seq = this.s.transitionCount + 1;
    const t = { from, to, at: iso(this.nowMs), cause, seq };
    this.s = {
      ...this.s,
      status: to,
      transitionCount: seq,
      transitions: [...this.s.transitions, t].slice(-TRANSITION_WINDOW),
    };
    this.changed = true;
    const tags = tagsForTransition(from, to);
    if (tags.add.length || tags.remove.length) {
      this.effects.push({
        type: 'crmSync',
        key: `${this.s.customerId}:t${seq}`,
        addTags: tags.add,
        removeTags: tags.remove,
      });
    }
  }

  notify(kind: NoticeKind, key: string, data: Partial<NoticeData> = {}): void {
    this.effects.push({
      type: 'notify',
      kind,
      key,
      data: { customerId: this.s.customerId, email: this.s.email, appUserId: this.s.appUserId, ...data },
    });
  }

  result(note: Outcome['note']): Outcome {
    let s = this.s;
    if (this.changed) s = { ...s, version: s.version + 1, updatedAt: iso(this.nowMs) };
    return { state: s, effects: this.effects, note };
  }
}
