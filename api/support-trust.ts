/**
 * Who a support answer may go to (issue 10). Links and member state travel only over the member's own channel: the
 * reply in an Intercom conversation whose author is a verified user, or an Intercom message to the member's known
 * contact. The HTTP answer says what happened, never what was sent, except to an anonymous question (no member id,
 * no email), whose reply is about nobody.
 */
import type { DeliveredVia, SupportAnswer } from '../lib/contract';
import type { SupportClassification } from '../lib/support/classifier';
import type { SupportIntent, SupportRoute } from '../workflows/support-messages';

export type { DeliveredVia } from '../lib/contract';

export function deliveredVia(row: { route: SupportRoute; customer_id: string | null; conversation_id: string | null }): DeliveredVia {
  if (row.route === 'human') return 'person';
  if (row.conversation_id) return 'intercom_conversation';
  if (row.customer_id) return 'member_channel';
  return 'response';
}

/** The facts of a message that decide whether it may be answered automatically. */
export interface SenderFacts {
  source: 'api' | 'intercom';
  email?: string;
  /** An Intercom conversation whose author is not a user with a verified identity (lead, visitor, no external_id). */
  unverifiedSender?: boolean;
}

/**
 * A sender we cannot tie to a member goes to a person: an unverified Intercom author (nothing they claim is
 * believed), or an email address that is no member's (a person answers that address; no state is told to the caller).
 */
export function gateByTrust(
  decision: SupportClassification,
  msg: SenderFacts,
  memberFound: boolean,
): SupportClassification {
  if (decision.route === 'human') return decision;
  if (msg.unverifiedSender) {
    return { ...decision, route: 'human', reason: `${decision.reason} The Intercom author is not a verified user: a person answers.` };
  }
  if (msg.source === 'api' && msg.email && !memberFound) {
    return { ...decision, route: 'human', reason: `${decision.reason} No member has this email: a person answers it.` };
  }
  return decision;
}

/** The HTTP answer of POST /support/requests: what happened; the reply itself only when it is about nobody. */
export function supportAnswer(result: {
  requestId: string;
  intent: SupportIntent;
  route: SupportRoute;
  deliveredVia: DeliveredVia;
  reply?: string;
}): SupportAnswer {
  const { requestId, intent, route, deliveredVia: via, reply } = result;
  return { requestId, intent, route, deliveredVia: via, ...(via === 'response' && reply ? { reply } : {}) };
}
