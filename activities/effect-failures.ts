/** Records a member effect that gave up (its retry deadline passed, or it failed for good): one row, one alert. */
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { workerMetrics, type WorkerMetrics } from '../lib/metrics';

export interface EffectFailure {
  customerId: string;
  /** notify | crm | stripe */
  lane: string;
  /** The effect's idempotency key (member, cycle, step; or the CRM transition). */
  key: string;
  reason: string;
  /** Why Temporal stopped retrying: TIMEOUT (the deadline), NON_RETRYABLE_FAILURE, MAXIMUM_ATTEMPTS_REACHED. */
  retryState?: string;
}

/** The CRM sync raises its own, more specific alert for a failure it declared permanent (e.g. a revoked token). */
const alertedByActivity = (f: EffectFailure): boolean => f.lane === 'crm' && f.retryState === 'NON_RETRYABLE_FAILURE';

export function createEffectFailureActivities({
  db,
  log,
  metrics = workerMetrics(),
}: {
  db: Db;
  log: Logger;
  metrics?: WorkerMetrics;
}) {
  return {
    /** Idempotent: a retried recording neither adds a row nor raises a second alert. */
    async recordEffectFailure(f: EffectFailure): Promise<{ recorded: boolean }> {
      const recorded = await db.transaction(async (client) => {
        const { rowCount } = await client.query(
          `INSERT INTO effect_failures (key, customer_id, lane, reason) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
          [f.key, f.customerId, f.lane, f.reason],
        );
        if (!rowCount) return false;
        if (!alertedByActivity(f))
          await client.query(
            `INSERT INTO alerts (key, customer_id, kind, message) VALUES ($1, $2, 'effect_failed', $3) ON CONFLICT (key) DO NOTHING`,
            [`effect-failed:${f.key}`, f.customerId, `${f.lane} effect ${f.key} gave up: ${f.reason}`],
          );
        // The notice was claimed before sending: it now says it failed rather than sending forever.
        if (f.lane === 'notify') {
          await client.query(`UPDATE member_notices SET status = 'failed' WHERE key = $1 AND status = 'sending'`, [
            f.key,
          ]);
        }
        return true;
      });
      if (recorded) {
        metrics.effectFailures.inc({ lane: f.lane });
        log.error({ customerId: f.customerId, lane: f.lane, key: f.key, reason: f.reason }, 'member effect gave up');
      }
      return { recorded };
    },
  };
}
