/** Reads of the membership projection. The app's access checks come from here, not from Temporal. */
import type { Db } from '../lib/db';
import type { DunningState, MembershipStatus, Transition } from '../workflows/messages';

export interface MembershipRow {
  customer_id: string;
  app_user_id: string | null;
  email: string | null;
  status: MembershipStatus;
  allowed: boolean;
  reason: string;
  subscription_id: string | null;
  subscription_status: string | null;
  cancel_at_period_end: boolean;
  current_period_end: Date | null;
  trial_end: Date | null;
  disputed: boolean;
  dunning: DunningState | null;
  crm_contact_id: string | null;
  latest_invoice_url: string | null;
  version: string;
  state_updated_at: Date | null;
  projected_at: Date;
}

/**
 * Which row answers for a member id. A Stripe customer id names its own row. An app user id may map to several Stripe
 * customers (a new checkout after a cancellation creates a new customer): any customer with access grants it, then the
 * most recently changed one answers, so an abandoned second checkout never hides a paying first one.
 */
const MEMBER_ORDER = '(customer_id = $1) DESC, allowed DESC, state_updated_at DESC NULLS LAST, customer_id';

/** A member id is a Stripe customer id (`cus_…`) or the app's own user id (see MEMBER_ORDER when it has several). */
export async function findMembership(db: Db, memberId: string): Promise<MembershipRow | undefined> {
  const rows = await db.query<MembershipRow>(
    `SELECT * FROM memberships WHERE customer_id = $1 OR app_user_id = $1
     ORDER BY ${MEMBER_ORDER} LIMIT 1`,
    [memberId],
  );
  return rows[0];
}

/** The access check: one indexed lookup of the status. */
export async function findAccess(
  db: Db,
  memberId: string,
): Promise<Pick<MembershipRow, 'customer_id' | 'status' | 'allowed' | 'reason'> | undefined> {
  const rows = await db.query<Pick<MembershipRow, 'customer_id' | 'status' | 'allowed' | 'reason'>>(
    `SELECT customer_id, status, allowed, reason FROM memberships WHERE customer_id = $1 OR app_user_id = $1
     ORDER BY ${MEMBER_ORDER} LIMIT 1`,
    [memberId],
  );
  return rows[0];
}

export async function listTransitions(db: Db, customerId: string): Promise<Transition[]> {
  const rows = await db.query<{ from_status: MembershipStatus; to_status: MembershipStatus; at: Date; cause: Transition['cause'] }>(
    'SELECT from_status, to_status, at, cause FROM membership_transitions WHERE customer_id = $1 ORDER BY seq',
    [customerId],
  );
  return rows.map((r) => ({ from: r.from_status, to: r.to_status, at: r.at.toISOString(), cause: r.cause }));
}

export async function listNotices(db: Db, customerId: string) {
  return db.query<{ key: string; kind: string; channel: string; status: string; created_at: Date; sent_at: Date | null }>(
    'SELECT key, kind, channel, status, created_at, sent_at FROM member_notices WHERE customer_id = $1 ORDER BY created_at',
    [customerId],
  );
}
