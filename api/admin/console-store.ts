/**
 * What the founder's console reads: the members list (counts, search, filters, pages) and everything about one
 * member, from the PostgreSQL projection and the tables each feature writes. Queries with parameters only.
 */
import type { Db } from '../../lib/db';
import { MEMBERSHIP_STATUSES, type DunningState, type MembershipStatus } from '../../workflows/messages';
import { crmSection, type CrmSection } from '../crm-section';
import { findMembership, listTransitions, type MembershipRow } from '../member-store';
import { supportSection, type SupportHistoryEntry } from '../support-section';

/** The statuses counted at the top of the list (`none` is a member who never paid: not counted). */
export const COUNTED_STATUSES = [
  'trialing',
  'active',
  'grace_period',
  'past_due',
  'canceled',
  'refunded',
  'disputed',
] as const;
export const LIST_FILTERS = ['in_dunning', 'crm_failing', 'open_support', 'event_set_aside'] as const;
export type ListFilter = (typeof LIST_FILTERS)[number] | MembershipStatus | 'disputed';
export const PAGE_SIZE = 50;

export interface ListedMember {
  customer_id: string;
  app_user_id: string | null;
  email: string | null;
  status: MembershipStatus;
  allowed: boolean;
  disputed: boolean;
  grace_ends_at: string | null;
  state_updated_at: Date | null;
}

export interface MemberList {
  counts: Record<(typeof COUNTED_STATUSES)[number], number>;
  members: ListedMember[];
  total: number;
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listMembers(
  db: Db,
  opts: { q?: string; filter?: ListFilter; page: number },
): Promise<MemberList> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.q) {
    params.push(opts.q, `${escapeLike(opts.q.toLowerCase())}%`);
    where.push(
      `(m.customer_id = $${params.length - 1} OR m.app_user_id = $${params.length - 1} OR lower(m.email) LIKE $${params.length})`,
    );
  }
  const f = opts.filter;
  if (f === 'disputed') where.push('m.disputed');
  else if (f === 'in_dunning') where.push(`m.status IN ('grace_period', 'past_due')`);
  else if (f === 'crm_failing')
    where.push(
      `EXISTS (SELECT 1 FROM crm_sync_state c WHERE c.customer_id = m.customer_id AND c.last_outcome <> 'ok')`,
    );
  else if (f === 'open_support')
    where.push(
      `EXISTS (SELECT 1 FROM support_requests r WHERE r.customer_id = m.customer_id AND r.outcome IN ('pending', 'escalated'))`,
    );
  else if (f === 'event_set_aside')
    where.push(
      `EXISTS (SELECT 1 FROM stripe_events e WHERE e.customer_id = m.customer_id AND e.set_aside_at IS NOT NULL)`,
    );
  else if (f && (MEMBERSHIP_STATUSES as readonly string[]).includes(f)) {
    params.push(f);
    where.push(`m.status = $${params.length}`);
  }
  const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [countRows, totalRows, members] = await Promise.all([
    db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM memberships GROUP BY status
       UNION ALL SELECT 'disputed', count(*)::int FROM memberships WHERE disputed`,
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM memberships m ${whereSql}`, params),
    db.query<ListedMember>(
      `SELECT m.customer_id, m.app_user_id, m.email, m.status, m.allowed, m.disputed, m.state_updated_at,
              m.dunning->>'graceEndsAt' AS grace_ends_at
       FROM memberships m ${whereSql}
       ORDER BY m.state_updated_at DESC NULLS LAST, m.customer_id
       LIMIT ${PAGE_SIZE} OFFSET ${Math.max(0, opts.page - 1) * PAGE_SIZE}`,
      params,
    ),
  ]);
  const counts = Object.fromEntries(COUNTED_STATUSES.map((s) => [s, 0])) as MemberList['counts'];
  for (const r of countRows) if (r.status in counts) counts[r.status as keyof typeof counts] = r.n;
  return { counts, members, total: totalRows[0]?.n ?? 0 };
}

export interface StripeEventRow {
  id: string;
  type: string;
  created_at: Date;
  outcome: string;
  outcome_detail: string | null;
  delivery_count: number;
  received_at: Date;
  last_received_at: Date;
  handed_off_at: Date | null;
  livemode: boolean;
}

export interface OperatorActionRow {
  id: string;
  actor: string;
  kind: string;
  input: Record<string, unknown>;
  result: 'ok' | 'rejected' | 'failed';
  message: string;
  at: Date;
}

export interface MemberDetails {
  member: MembershipRow;
  dunning: DunningState | null;
  transitions: Awaited<ReturnType<typeof listTransitions>>;
  transitionTotal: number;
  events: StripeEventRow[];
  eventTotal: number;
  notices: Array<{
    key: string;
    kind: string;
    channel: string;
    status: string;
    created_at: Date;
    sent_at: Date | null;
  }>;
  crm: CrmSection['crm'];
  crmTags: Array<{ tag: string; op: string; applied_at: Date }>;
  crmFailures: { count: number; lastError: string | null; lastAt: Date | null };
  support: SupportHistoryEntry[];
  actions: OperatorActionRow[];
}

/** Shown per section: the newest, so the page stays light however long the member's history. */
const SHOWN = { transitions: 50, events: 20, notices: 30, tags: 20, actions: 30 };

export async function memberDetails(db: Db, id: string): Promise<MemberDetails | undefined> {
  const member = await findMembership(db, id);
  if (!member) return undefined;
  const cus = member.customer_id;
  const [transitions, transitionCount, events, eventCount, notices, crm, crmTags, crmFailures, support, actions] =
    await Promise.all([
      db.query<{ from_status: MembershipStatus; to_status: MembershipStatus; at: Date; cause: never }>(
        `SELECT from_status, to_status, at, cause FROM membership_transitions WHERE customer_id = $1
         ORDER BY seq DESC LIMIT ${SHOWN.transitions}`,
        [cus],
      ),
      db.query<{ n: number }>('SELECT count(*)::int AS n FROM membership_transitions WHERE customer_id = $1', [cus]),
      db.query<StripeEventRow>(
        `SELECT id, type, created_at, outcome, outcome_detail, delivery_count, received_at, last_received_at,
                handed_off_at, livemode
         FROM stripe_events WHERE customer_id = $1 ORDER BY created_at DESC, received_at DESC LIMIT ${SHOWN.events}`,
        [cus],
      ),
      db.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe_events WHERE customer_id = $1', [cus]),
      db.query<MemberDetails['notices'][number]>(
        `SELECT key, kind, channel, status, created_at, sent_at FROM member_notices WHERE customer_id = $1
         ORDER BY created_at DESC LIMIT ${SHOWN.notices}`,
        [cus],
      ),
      crmSection(db)(cus),
      db.query<MemberDetails['crmTags'][number]>(
        `SELECT tag, op, applied_at FROM crm_tag_ops WHERE customer_id = $1 ORDER BY applied_at DESC LIMIT ${SHOWN.tags}`,
        [cus],
      ),
      db.query<{ count: number; last_error: string | null; last_at: Date | null }>(
        `SELECT count(*)::int AS count, (array_agg(error ORDER BY at DESC))[1] AS last_error, max(at) AS last_at
         FROM crm_sync_log WHERE customer_id = $1 AND outcome <> 'ok'`,
        [cus],
      ),
      supportSection(db)(cus),
      db.query<OperatorActionRow>(
        `SELECT id, actor, kind, input, result, message, at FROM operator_actions WHERE customer_id = $1
         ORDER BY at DESC LIMIT ${SHOWN.actions}`,
        [cus],
      ),
    ]);
  return {
    member,
    dunning: member.dunning,
    transitions: transitions.map((r) => ({
      from: r.from_status,
      to: r.to_status,
      at: r.at.toISOString(),
      cause: r.cause,
    })),
    transitionTotal: transitionCount[0]?.n ?? 0,
    events,
    eventTotal: eventCount[0]?.n ?? 0,
    notices,
    crm: crm.crm,
    crmTags,
    crmFailures: {
      count: crmFailures[0]?.count ?? 0,
      lastError: crmFailures[0]?.last_error ?? null,
      lastAt: crmFailures[0]?.last_at ?? null,
    },
    support: support.support,
    actions,
  };
}

export async function recordOperatorAction(
  db: Db,
  a: {
    id: string;
    /** null: an action on memberops as a whole (the backfill), not on one member. */
    customerId: string | null;
    actor: string;
    kind: string;
    input: object;
    result: OperatorActionRow['result'];
    message: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO operator_actions (id, customer_id, actor, kind, input, result, message) VALUES ($1,$2,$3,$4,$5,$6,$7)
     ON CONFLICT (id) DO NOTHING`,
    [a.id, a.customerId, a.actor, a.kind, JSON.stringify(a.input), a.result, a.message],
  );
}
