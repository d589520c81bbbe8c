/**
 * What the CRM sync did, in PostgreSQL: tag operations per sync key (exactly once per key), the member's sync state
 * shown on GET /members/:id, and the lag from webhook hand-off to CRM update.
 */
import type { Db } from '../lib/db';
import { workerMetrics } from '../lib/metrics';
import { isNonRetryable } from './failures';
import type { CrmTag } from '../workflows/crm-tags';
import type { CallScope } from './intercom/calls';

export function createCrmSyncState(db: Db) {
  async function recordTagOp(
    scope: CallScope,
    tag: CrmTag,
    op: 'add' | 'remove',
    contactId: string,
    called: boolean,
    requestId?: string,
  ) {
    await db.query(
      `INSERT INTO crm_tag_ops (key, tag, op, customer_id, contact_id, called, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (key, tag, op) DO NOTHING`,
      [scope.key, tag, op, scope.customerId, contactId, called, requestId ?? null],
    );
  }

  /**
   * Marks the sync done and measures lag: from the newest handed-off Stripe event of the member to now, counted
   * only by the first successful sync after that event (later syncs did not wait for it).
   */
  async function recordSuccess(scope: CallScope, contactId: string): Promise<number | null> {
    const [row] = await db.query<{ lag_ms: number | null }>(
      `WITH ev AS (
         SELECT max(handed_off_at) AS at FROM stripe_events WHERE customer_id = $1 AND outcome = 'handed_off'
       ), m AS (
         SELECT ev.at AS event_at,
                CASE WHEN ev.at IS NOT NULL AND (prev.synced_at IS NULL OR ev.at > prev.synced_at)
                     THEN GREATEST(0, round(extract(epoch FROM clock_timestamp() - ev.at) * 1000))::integer END AS lag_ms
         FROM ev LEFT JOIN crm_sync_state prev ON prev.customer_id = $1
       ), up AS (
         INSERT INTO crm_sync_state (customer_id, contact_id, synced_at, last_key, last_outcome, last_attempt_at, last_error, lag_ms, lag_event_at)
         SELECT $1, $2, clock_timestamp(), $3, 'ok', clock_timestamp(), NULL, m.lag_ms, CASE WHEN m.lag_ms IS NULL THEN NULL ELSE m.event_at END FROM m
         ON CONFLICT (customer_id) DO UPDATE SET
           contact_id = EXCLUDED.contact_id, synced_at = EXCLUDED.synced_at, last_key = EXCLUDED.last_key,
           last_outcome = 'ok', last_attempt_at = EXCLUDED.last_attempt_at, last_error = NULL,
           lag_ms = COALESCE(EXCLUDED.lag_ms, crm_sync_state.lag_ms),
           lag_event_at = COALESCE(EXCLUDED.lag_event_at, crm_sync_state.lag_event_at)
         -- A late-finishing earlier attempt never overwrites a newer success.
         WHERE crm_sync_state.synced_at IS NULL OR crm_sync_state.synced_at <= EXCLUDED.synced_at
       )
       SELECT lag_ms FROM m`,
      [scope.customerId, contactId, scope.key],
    );
    const lagMs = row?.lag_ms ?? null;
    if (lagMs !== null) workerMetrics().crmSyncLag.observe(lagMs / 1000);
    return lagMs;
  }

  async function recordFailure(scope: CallScope, err: unknown): Promise<void> {
    const outcome = isNonRetryable(err) ? 'failed' : 'retry';
    const message = err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500);
    await db.query(
      `INSERT INTO crm_sync_state (customer_id, last_key, last_outcome, last_attempt_at, last_error)
       VALUES ($1, $2, $3, clock_timestamp(), $4)
       ON CONFLICT (customer_id) DO UPDATE SET last_key = EXCLUDED.last_key, last_outcome = EXCLUDED.last_outcome,
         last_attempt_at = EXCLUDED.last_attempt_at, last_error = EXCLUDED.last_error`,
      [scope.customerId, scope.key, outcome, message],
    );
  }

  /** Tag operations an earlier attempt of this sync key already did, as `op:tag`. */
  async function doneOps(key: string): Promise<Set<string>> {
    const rows = await db.query<{ tag: string; op: string }>('SELECT tag, op FROM crm_tag_ops WHERE key = $1', [key]);
    return new Set(rows.map((r) => `${r.op}:${r.tag}`));
  }

  return { recordTagOp, recordSuccess, recordFailure, doneOps };
}
