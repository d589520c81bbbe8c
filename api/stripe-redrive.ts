/**
 * The re-drive sweep: events verified and readable but never handed off (Temporal was down and Stripe stopped
 * redelivering, or the process died between recording and hand-off) are handed off by memberops itself. A hand-off is
 * idempotent (the workflow deduplicates by event id), so two API processes sweeping together do no harm.
 */
import { DependencyUnavailableError, errorMessage } from '../lib/dependency-errors';
import { handOffMemberEvent, type ProcessDeps } from '../lib/process-stripe-event';
import { alertSetAside, markSetAside, pendingHandOffs } from '../lib/stripe-event-log';

const BATCH = 100;

/** One pass: hands off what waits, oldest first; stops at the first sign that a dependency is still unavailable. */
export async function redriveStripeEvents(deps: ProcessDeps, quietForMs: number): Promise<{ handedOff: number }> {
  const pending = await pendingHandOffs(deps.db, quietForMs, BATCH);
  let handedOff = 0;
  for (const event of pending) {
    try {
      const result = await handOffMemberEvent(deps, event);
      if (result.outcome === 'refused') {
        const reason = `hand-off refused by Temporal: ${result.reason}`;
        await markSetAside(deps.db, event.eventId, reason);
        await alertSetAside(deps.db, { id: event.eventId, type: event.type }, event.customerId, reason);
        deps.metrics.eventsSetAside.inc({ reason: 'handoff_refused' });
        deps.metrics.eventsRedriven.inc({ outcome: 'set_aside' });
        continue;
      }
      handedOff++;
      deps.metrics.eventsRedriven.inc({ outcome: 'handed_off' });
    } catch (err) {
      deps.metrics.eventsRedriven.inc({ outcome: 'failed' });
      if (err instanceof DependencyUnavailableError) break;
      throw err;
    }
  }
  if (handedOff > 0) deps.log.info({ handedOff }, 'Stripe events re-driven to their member workflows');
  return { handedOff };
}

/**
 * Runs the sweep every `everyMs` (never two passes at once) until stopped; 0 turns it off. Support requests recorded
 * but not handed off (`support`) are picked up by the same pass.
 */
export function startStripeRedrive(
  deps: ProcessDeps,
  everyMs: number,
  support?: (quietForMs: number) => Promise<unknown>,
): { stop(): Promise<void> } {
  if (everyMs <= 0) return { stop: async () => undefined };
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() =>
      // Events quiet for one interval: a delivery still being answered is not raced (a race would be harmless).
      redriveStripeEvents(deps, everyMs)
        .then(() => support?.(everyMs))
        .catch((err: unknown) => {
          deps.log.warn({ err: errorMessage(err) }, 're-drive pass failed; the next pass tries again');
        }),
    );
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
