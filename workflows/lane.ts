/**
 * A sequential effect queue inside a workflow. Each lane (projection, notices, CRM, Stripe) runs its items
 * one at a time in order, so a slow or failing CRM never holds up the membership state or the projection.
 */
import { log } from '@temporalio/workflow';

export class Lane<T> {
  private readonly items: T[] = [];
  private running = false;

  constructor(
    readonly name: string,
    private readonly run: (item: T) => Promise<unknown>,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (!this.running) void this.drain();
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

  idle(): boolean {
    return !this.running && this.items.length === 0;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.items.length > 0) {
        try {
          await this.run(this.items[0] as T);
        } catch (err) {
          // Retries are exhausted or the failure was non-retryable: the activity already recorded it.
          // The membership must go on; the failure stays visible in history and logs.
          log.error(`${this.name} effect failed permanently`, { error: err instanceof Error ? err.message : String(err) });
        }
        this.items.shift();
      }
    } finally {
      this.running = false;
    }
  }
}
