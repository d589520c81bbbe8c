/** The `crm` section of GET /members/:id: the member's Intercom contact and how its last sync went. */
import type { Db } from '../lib/db';

export interface CrmSection {
  crm: {
    contactId: string | null;
    /** ISO time of the last successful sync. */
    syncedAt: string | null;
    /** Outcome of the newest sync attempt: ok | retry (Intercom failing, being retried) | failed (needs a person). */
    lastOutcome: string;
    /** ISO time of the newest attempt. */
    lastAttemptAt: string;
    /** Why the newest attempt failed (no token, no body); null after a success. */
    lastError: string | null;
    /** Webhook hand-off to CRM update, as last measured. */
    lagMs: number | null;
  } | null;
}

/** Null when the member was never synced (CRM sync off, or not reached yet). */
export function crmSection(db: Db): (customerId: string) => Promise<CrmSection> {
  return async (customerId) => {
    const [row] = await db.query<{
      contact_id: string | null;
      synced_at: Date | null;
      last_outcome: string;
      last_attempt_at: Date;
      last_error: string | null;
      lag_ms: number | null;
    }>(
      `SELECT COALESCE(s.contact_id, c.contact_id) AS contact_id, s.synced_at, s.last_outcome, s.last_attempt_at, s.last_error, s.lag_ms
       FROM crm_sync_state s LEFT JOIN crm_contacts c ON c.customer_id = s.customer_id
       WHERE s.customer_id = $1`,
      [customerId],
    );
    if (!row) return { crm: null };
    return {
      crm: {
        contactId: row.contact_id,
        syncedAt: row.synced_at?.toISOString() ?? null,
        lastOutcome: row.last_outcome,
        lastAttemptAt: row.last_attempt_at.toISOString(),
        lastError: row.last_error,
        lagMs: row.lag_ms,
      },
    };
  };
}
