/**
 * A sequential effect queue inside a workflow. Each lane (projection, notices, CRM, Stripe) runs its items
 * one at a time in order, so a slow or failing CRM never holds up the membership state or the projection.
 * A lane contains activity failures only: an item whose activity gave up (its deadline or a non-retryable failure) is
 * reported to `onFailure` and the lane moves on. Anything else is a bug in workflow code: the lane stops with the
 * item still queued and `bug()` returns the error, which the workflow rethrows so that the workflow task fails and
 * Temporal retries it once the code is fixed, instead of a notice or a tag silently dropped.
 */
import { ActivityFailure, log } from '@temporalio/workflow';

export class Lane<T> {
  private readonly items: T[] = [];
  private running = false;
  private failure: unknown;
  private gate: Promise<unknown> | undefined;
  private paused = false;

  constructor(
    readonly name: string,
    private readonly run: (item: T) => Promise<unknown>,
    private readonly onFailure?: (item: T, failure: ActivityFailure) => Promise<void>,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (!this.running && this.failure === undefined) void this.drain();
  }

  /** Replaces a queued item that has not started yet (used where only the newest state matters). */
  pushCoalesced(item: T): void {
    if (this.items.length > (this.running ? 1 : 0)) this.items[this.items.length - 1] = item;
    else this.push(item);
  }

  /** Items queued and not started. */
  pendingCount(): number {
    return Math.max(0, this.items.length - (this.running ? 1 : 0));
  }

  /**
   * Every item not yet finished, the one in flight first: what continue-as-new carries to the next run (see
   * membership.ts). The in-flight attempt is abandoned there; effects are idempotent by key.
   */
  carried(): T[] {
    return [...this.items];
  }

  /** Whether the first item had started when the run continued as new. */
  inFlight(): boolean {
    return this.running && this.items.length > 0;
  }

  /** Starts no further item (the run is about to continue as new); the one in flight goes on. */
  pause(): void {
    this.paused = true;
  }

  /** Items wait for `gate` before the lane runs them (a carried in-flight attempt of the last run ending first). */
  holdUntil(gate: Promise<unknown>): void {
    this.gate = gate;
  }

  idle(): boolean {
    return !this.running && this.items.length === 0;
  }

  /** The programming error that stopped the lane, if any. */
  bug(): unknown {
    return this.failure;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      if (this.gate) {
        await this.gate;
        this.gate = undefined;
      }
      while (this.items.length > 0 && !this.paused) {
        const item = this.items[0] as T;
        try {
          await this.run(item);
        } catch (err) {
          if (!(err instanceof ActivityFailure)) {
            this.failure = err;
            return;
          }
          // Retries are exhausted or the failure was non-retryable: recorded and alerted, and the membership goes on.
          log.error(`${this.name} effect failed permanently`, { error: err.cause?.message ?? err.message });
          try {
            await this.onFailure?.(item, err);
          } catch (recordErr) {
            if (!(recordErr instanceof ActivityFailure)) {
              this.failure = recordErr;
              return;
            }
            log.error(`${this.name} effect failure could not be recorded`, { error: recordErr.message });
          }
        }
        this.items.shift();
      }
    } finally {
      this.running = false;
    }
  }
}

/** Rethrows the first lane's programming error: it fails the workflow task (see Lane). */
export function throwLaneBugs(lanes: ReadonlyArray<{ bug(): unknown }>): void {
  for (const lane of lanes) {
    const bug = lane.bug();
    if (bug !== undefined) throw bug;
  }
}
