/** Shared steps of the backfill and reconciliation tests: run a backfill to its end, read members back. */
import type { Db } from '../../lib/db';
import { startBackfill } from '../../api/backfill';
import type { BackfillProgress } from '../../workflows/backfill';
import type { PopulationMember } from '../../tools/testkit/fakes/fake-stripe-api';
import type { Harness } from './harness';

/** Canonical status a backfilled member must have for Stripe's status (the population's invoices failed an hour ago). */
export const EXPECTED: Record<string, string> = {
  active: 'active',
  trialing: 'trialing',
  past_due: 'grace_period',
  unpaid: 'past_due',
  canceled: 'canceled',
  none: 'none',
};
export const expectedStatus = (m: PopulationMember): string => EXPECTED[m.stripeStatus ?? 'none'] as string;

export async function runBackfill(
  h: Harness,
  opts: { requestsPerSecond?: number; pageSize?: number; pagesPerRun?: number; runId?: string } = {},
): Promise<BackfillProgress> {
  const handle = await startBackfill(h.temporal, {
    taskQueue: h.config.temporal.taskQueue,
    requestsPerSecond: opts.requestsPerSecond ?? 0,
    pageSize: opts.pageSize,
    pagesPerRun: opts.pagesPerRun,
    runId: opts.runId,
  });
  return handle.result();
}

export interface MemberRow {
  customer_id: string;
  status: string;
  email: string | null;
  app_user_id: string | null;
  version: string;
}

export async function membersWithPrefix(db: Db, prefix: string): Promise<Map<string, MemberRow>> {
  const rows = await db.query<MemberRow>(
    'SELECT customer_id, status, email, app_user_id, version FROM memberships WHERE customer_id LIKE $1',
    [`${prefix}%`],
  );
  return new Map(rows.map((r) => [r.customer_id, r]));
}

export async function noticesWithPrefix(db: Db, prefix: string): Promise<number> {
  const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM member_notices WHERE customer_id LIKE $1', [
    `${prefix}%`,
  ]);
  return Number(row?.n ?? 0);
}

/** Every member of the population projected with the status Stripe implies, identity included. */
export function mismatches(members: Map<string, MemberRow>, population: PopulationMember[]): string[] {
  const out: string[] = [];
  for (const m of population) {
    const row = members.get(m.customerId);
    const want = expectedStatus(m);
    if (!row || row.status !== want || row.email !== m.email || row.app_user_id !== m.appUserId) {
      out.push(
        `${m.customerId}: want ${want}/${m.email}, got ${row ? `${row.status}/${row.email}/${row.app_user_id}` : 'nothing'}`,
      );
    }
  }
  return out;
}
