/** Writes a member's workflow state to PostgreSQL. Idempotent and version-guarded. */
import type { Db } from '../lib/db';
import { workerMetrics, type WorkerMetrics } from '../lib/metrics';
import type { MembershipView, Transition } from '../workflows/messages';

export interface ProjectionInput {
  view: MembershipView;
  transitions: Array<Transition & { seq: number }>;
}

const IN_DUNNING = new Set(['grace_period', 'past_due']);

/** What a transition means for the member's dunning cycle, if anything. */
export function dunningStage(from: string, to: string): 'started' | 'recovered' | 'exhausted' | null {
  if (to === 'grace_period' && !IN_DUNNING.has(from)) return 'started';
  if (!IN_DUNNING.has(from)) return null;
  if (to === 'active' || to === 'trialing') return 'recovered';
  if (to === 'canceled') return 'exhausted';
  return null;
}

export function createProjectionActivities(db: Db, metrics: WorkerMetrics = workerMetrics()) {
  return {
    /** Upserts the membership row unless a newer version is already there, and appends transitions. */
    async projectMembership({ view, transitions }: ProjectionInput): Promise<{ written: boolean }> {
      let newTransitions: Array<{ from_status: string; to_status: string; lag_s: number | null }> = [];
      const result = await db.transaction(async (client) => {
        const res = await client.query(
          `INSERT INTO memberships (customer_id, app_user_id, email, status, allowed, reason, subscription_id,
             subscription_status, cancel_at_period_end, current_period_end, trial_end, disputed, dunning,
             crm_contact_id, version, state_updated_at, latest_invoice_url, projected_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17, now())
           ON CONFLICT (customer_id) DO UPDATE SET
             app_user_id = EXCLUDED.app_user_id, email = EXCLUDED.email, status = EXCLUDED.status,
             allowed = EXCLUDED.allowed, reason = EXCLUDED.reason, subscription_id = EXCLUDED.subscription_id,
             subscription_status = EXCLUDED.subscription_status, cancel_at_period_end = EXCLUDED.cancel_at_period_end,
             current_period_end = EXCLUDED.current_period_end, trial_end = EXCLUDED.trial_end,
             disputed = EXCLUDED.disputed, dunning = EXCLUDED.dunning, crm_contact_id = EXCLUDED.crm_contact_id,
             version = EXCLUDED.version, state_updated_at = EXCLUDED.state_updated_at,
             latest_invoice_url = EXCLUDED.latest_invoice_url, projected_at = now()
           -- A retried or reordered write never overwrites a newer one.
           WHERE memberships.version < EXCLUDED.version`,
          [
            view.customerId,
            view.appUserId,
            view.email,
            view.status,
            view.allowed,
            view.reason,
            view.subscriptionId,
            view.subscriptionStatus,
            view.cancelAtPeriodEnd,
            view.currentPeriodEnd,
            view.trialEnd,
            view.disputed,
            view.dunning ? JSON.stringify(view.dunning) : null,
            view.crm.contactId,
            view.version,
            view.updatedAt,
            view.latestInvoiceUrl,
          ],
        );
        if (transitions.length > 0) {
          // Only transitions written now are measured: a retried activity or a replay never counts one twice.
          const { rows } = await client.query<{ from_status: string; to_status: string; lag_s: number | null }>(
            `WITH ins AS (
               INSERT INTO membership_transitions (customer_id, seq, from_status, to_status, at, cause)
               SELECT $1, t.seq, t.from_status, t.to_status, t.at, t.cause
               FROM jsonb_to_recordset($2::jsonb) AS t(seq integer, from_status text, to_status text, at timestamptz, cause jsonb)
               ON CONFLICT (customer_id, seq) DO NOTHING
               RETURNING from_status, to_status, cause)
             SELECT ins.from_status, ins.to_status,
               GREATEST(0, extract(epoch FROM clock_timestamp() - COALESCE(ev.handed_off_at, ev.last_received_at)))::float8 AS lag_s
             FROM ins LEFT JOIN stripe_events ev ON ev.id = ins.cause->>'eventId'`,
            [
              view.customerId,
              JSON.stringify(
                transitions.map((t) => ({ seq: t.seq, from_status: t.from, to_status: t.to, at: t.at, cause: t.cause })),
              ),
            ],
          );
          newTransitions = rows;
        }
        return { written: (res.rowCount ?? 0) > 0 };
      });
      // Recorded after the commit, so a rolled-back write is never counted.
      metrics.projectionWrites.inc();
      for (const t of newTransitions) {
        if (t.lag_s !== null) metrics.projectionLag.observe(t.lag_s);
        const stage = dunningStage(t.from_status, t.to_status);
        if (stage) metrics.dunningCycles.inc({ stage });
      }
      return result;
    },
  };
}
