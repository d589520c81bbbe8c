/** Reconciliation's metrics, on the worker's (default) registry like the other worker metrics in metrics.ts. */
import { Counter, register } from 'prom-client';

function counter(name: string, help: string): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help });
}

export function reconcileMetrics() {
  const m = {
    runs: counter('memberops_reconcile_runs_total', 'Reconciliation runs finished'),
    missedEvents: counter(
      'memberops_reconcile_missed_events_total',
      'Stripe events a reconciliation run found unrecorded (webhooks missed) and applied',
    ),
    driftRepaired: counter(
      'memberops_reconcile_drift_repaired_total',
      'Members whose canonical status disagreed with Stripe and were repaired with a snapshot (alert: MemberopsStripeDrift)',
    ),
  };
  // Exported at 0 from start-up so that increase() sees the first drift after a restart.
  for (const c of Object.values(m)) c.inc(0);
  return m;
}
