/**
 * The short-lived cache of `access()`: an allowed answer is reused for a few seconds so a page view costs no round
 * trip in the common case. Only allowed answers are kept: a denial or an unknown member is always asked again, so a
 * member who pays is let in at once, and one who is blocked stays blocked for at most the TTL after the change.
 */
import type { AccessAnswer } from '../lib/contract';

/** Enough for a busy app; the oldest entries go first when it is full. */
const MAX_ENTRIES = 10_000;

export class AccessCache {
  private readonly entries = new Map<string, { answer: AccessAnswer; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(memberId: string): AccessAnswer | undefined {
    const e = this.entries.get(memberId);
    if (!e) return undefined;
    if (e.expiresAt > this.now()) return e.answer;
    this.entries.delete(memberId);
    return undefined;
  }

  /** Keeps an allowed answer; forgets the member on any other. */
  remember(memberId: string, answer: AccessAnswer): void {
    this.entries.delete(memberId);
    if (this.ttlMs <= 0 || !answer.allowed) return;
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(memberId, { answer, expiresAt: this.now() + this.ttlMs });
  }

  /** Forgets one member, or everyone. */
  forget(memberId?: string): void {
    if (memberId === undefined) this.entries.clear();
    else this.entries.delete(memberId);
  }
}
