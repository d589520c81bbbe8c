/** The `support` section of GET /members/:id: the member's support requests, how each was routed and why, and the outcome. */
import type { Db } from '../lib/db';
import type { RuleMatch } from '../lib/support/classifier';
import type { SupportIntent, SupportRoute } from '../workflows/support-messages';

export interface SupportHistoryEntry {
  requestId: string;
  /** ISO time the request arrived. */
  at: string;
  source: 'api' | 'intercom';
  conversationId: string | null;
  intent: SupportIntent;
  route: SupportRoute;
  confidence: number;
  /** Every classifier rule that fired (with its weight): how the decision was made. */
  matched: RuleMatch[];
  /** The decision in words, including why a person answers when no automatic reply was possible. */
  reason: string;
  reply: string | null;
  /** pending | replied | answered_in_response | escalated */
  outcome: string;
  /** What each step did (reply, hand-off, tag, assign, alert). */
  steps: Record<string, unknown> | null;
  /** ISO */
  completedAt: string | null;
}

/** Requests shown per member, newest kept; the table keeps them all. */
const SHOWN = 50;

export function supportSection(db: Db): (customerId: string) => Promise<{ support: SupportHistoryEntry[] }> {
  return async (customerId) => {
    const rows = await db.query<
      Omit<SupportHistoryEntry, 'at' | 'completedAt'> & { at: Date; completedAt: Date | null }
    >(
      `SELECT * FROM (
         SELECT id AS "requestId", created_at AS at, source, conversation_id AS "conversationId", intent, route,
                confidence, matched, reason, reply, outcome, steps, completed_at AS "completedAt"
         FROM support_requests WHERE customer_id = $1 ORDER BY created_at DESC LIMIT ${SHOWN}
       ) newest ORDER BY at`,
      [customerId],
    );
    return {
      support: rows.map((r) => ({ ...r, at: r.at.toISOString(), completedAt: r.completedAt?.toISOString() ?? null })),
    };
  };
}
