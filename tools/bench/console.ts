/**
 * `npx tsx tools/bench/console.ts [--members 10000] [--runs 400]`: server time of the founder console's member page
 * (every query and the HTML render, as the route does them) with N members and one member with a long history, next
 * to a bare PostgreSQL primary-key lookup of the same member; the members list (search, filter) too; and the page's
 * weight. A scratch database on TEST_PG_URL, dropped afterwards.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { listMembers, memberDetails } from '../../api/admin/console-store';
import { renderPage } from '../../api/admin/views/layout';
import { MembersListPage } from '../../api/admin/views/members-list';
import { MemberPage } from '../../api/admin/views/member-page';
import { createDb, migrate, type Db } from '../../lib/db';
import { createTestDatabase } from '../testkit/pg';

const { values } = parseArgs({
  options: { members: { type: 'string', default: '10000' }, runs: { type: 'string', default: '400' } },
});
const MEMBERS = Number(values.members);
const RUNS = Number(values.runs);
const ADMIN_URL = process.env['TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TARGET = 'cus_bench_long';
/** The long history of the one member the page shows. */
const LONG = { transitions: 1000, events: 3000, notices: 300, support: 200, tagOps: 500, crmCalls: 3000, actions: 200 };

async function seed(db: Db): Promise<void> {
  // Everyone: a spread of statuses, emails, app user ids, a dunning cycle for those in dunning, a few events each.
  await db.query(
    `INSERT INTO memberships (customer_id, app_user_id, email, status, allowed, reason, version, state_updated_at, dunning)
     SELECT 'cus_bench_' || i, 'user_' || i, 'member' || i || '@bench.test',
            (ARRAY['active','active','active','trialing','grace_period','past_due','canceled','refunded'])[1 + i % 8],
            i % 8 < 5, 'bench', 1, now() - (i || ' minutes')::interval,
            CASE WHEN i % 8 IN (4, 5) THEN jsonb_build_object('cycle', 1, 'cycleStartedAt', now(), 'graceEndsAt', now() + interval '3 days',
              'cancelsAt', now() + interval '14 days', 'pendingReminders', '[]'::jsonb, 'remindersSent', 1,
              'policy', jsonb_build_object('finalAction', 'mark_canceled')) END
     FROM generate_series(1, $1::int) i`,
    [MEMBERS - 1],
  );
  await db.query(
    `INSERT INTO stripe_events (id, type, created_at, customer_id, object_id, outcome)
     SELECT 'evt_bench_' || i || '_' || k, 'invoice.paid', now() - (k || ' days')::interval, 'cus_bench_' || i, 'in_' || i || '_' || k, 'handed_off'
     FROM generate_series(1, $1::int) i, generate_series(1, 5) k`,
    [MEMBERS - 1],
  );
  await db.query(
    `INSERT INTO memberships (customer_id, app_user_id, email, status, allowed, reason, version, state_updated_at, dunning)
     VALUES ($1, 'user_long', 'long@bench.test', 'grace_period', true, 'payment failed; grace period keeps access', $2, now(),
       jsonb_build_object('cycle', 40, 'cycleStartedAt', now(), 'graceEndsAt', now() + interval '3 days', 'cancelsAt',
         now() + interval '14 days', 'pendingReminders', jsonb_build_array(now() + interval '3 days'), 'remindersSent', 1,
         'failureReason', 'card_declined', 'invoiceId', 'in_long', 'hostedInvoiceUrl', 'https://invoice.stripe.com/i/long',
         'policy', jsonb_build_object('finalAction', 'mark_canceled')))`,
    [TARGET, LONG.transitions],
  );
  await db.query(
    `INSERT INTO membership_transitions (customer_id, seq, from_status, to_status, at, cause)
     SELECT $1, s, CASE WHEN s % 2 = 0 THEN 'active' ELSE 'grace_period' END, CASE WHEN s % 2 = 0 THEN 'grace_period' ELSE 'active' END,
            now() - ((2000 - s) || ' hours')::interval, jsonb_build_object('kind', 'event', 'eventId', 'evt_long_' || s, 'eventType', 'invoice.payment_failed')
     FROM generate_series(1, $2::int) s`,
    [TARGET, LONG.transitions],
  );
  await db.query(
    `INSERT INTO stripe_events (id, type, created_at, customer_id, object_id, outcome, delivery_count)
     SELECT 'evt_long_' || s, 'invoice.payment_failed', now() - ((5000 - s) || ' hours')::interval, $1, 'in_long_' || s, 'handed_off', 1 + s % 3
     FROM generate_series(1, $2::int) s`,
    [TARGET, LONG.events],
  );
  await db.query(
    `INSERT INTO member_notices (key, customer_id, kind, channel, status, created_at, sent_at)
     SELECT $1 || ':n' || s, $1, 'dunning_reminder', 'intercom', 'sent', now() - (s || ' hours')::interval, now() FROM generate_series(1, $2::int) s`,
    [TARGET, LONG.notices],
  );
  await db.query(
    `INSERT INTO support_requests (id, source, dedupe_key, customer_id, body_excerpt, intent, route, confidence, matched, reason, reply, outcome, created_at)
     SELECT gen_random_uuid(), 'api', 'bench:' || s, $1, 'Where is my receipt?', 'invoice_receipt', 'auto_reply', 0.9,
            '[{"intent":"invoice_receipt","rule":"receipt","weight":3}]'::jsonb, 'rule receipt', repeat('Your receipt is here. ', 20), 'replied',
            now() - (s || ' hours')::interval
     FROM generate_series(1, $2::int) s`,
    [TARGET, LONG.support],
  );
  await db.query(
    `INSERT INTO crm_tag_ops (key, tag, op, customer_id, contact_id, called) SELECT $1 || ':t' || s, 'payment_failed', 'add', $1, 'ct_long', true
     FROM generate_series(1, $2::int) s`,
    [TARGET, LONG.tagOps],
  );
  await db.query(
    `INSERT INTO crm_sync_log (customer_id, key, operation, http_status, attempt, duration_ms, outcome, error)
     SELECT $1, $1 || ':v' || s, 'contacts.update', CASE WHEN s % 10 = 0 THEN 503 ELSE 200 END, 1, 40,
            CASE WHEN s % 10 = 0 THEN 'retry' ELSE 'ok' END, CASE WHEN s % 10 = 0 THEN 'HTTP 503' END
     FROM generate_series(1, $2::int) s`,
    [TARGET, LONG.crmCalls],
  );
  await db.query(
    `INSERT INTO crm_sync_state (customer_id, contact_id, synced_at, last_outcome, last_attempt_at, lag_ms) VALUES ($1, 'ct_long', now(), 'ok', now(), 420)`,
    [TARGET],
  );
  await db.query(
    `INSERT INTO operator_actions (id, customer_id, actor, kind, input, result, message)
     SELECT gen_random_uuid(), $1, 'founder@bench.test', 'note', jsonb_build_object('text', 'called the member'), 'ok', 'note added'
     FROM generate_series(1, $2::int) s`,
    [TARGET, LONG.actions],
  );
  await db.query('ANALYZE');
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

const pct = (xs: number[], p: number): number =>
  xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] as number;
const row = (name: string, xs: number[]): string =>
  `| ${name} | ${pct(xs, 50).toFixed(2)} ms | ${pct(xs, 95).toFixed(2)} ms | ${pct(xs, 99).toFixed(2)} ms |`;

async function main(): Promise<void> {
  const database = await createTestDatabase(ADMIN_URL);
  const db = createDb(database.url);
  try {
    await migrate(db);
    const t0 = performance.now();
    await seed(db);
    process.stdout.write(
      `seeded ${MEMBERS} members and one long history in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    const frame = { email: 'founder@bench.test', csrfToken: 'x'.repeat(64) };
    const links = {
      stripe: 'https://dashboard.stripe.com/test/customers/x',
      intercom: null,
      temporal: null,
      workflowId: 'member-x',
    };
    let bytes = 0;
    const memberPage = async (id: string) => {
      const d = await memberDetails(db, id);
      if (!d) throw new Error(`no member ${id}`);
      const html = renderPage(MemberPage({ ...frame, d, links, maxExtension: '7 days' }));
      bytes = Buffer.byteLength(html);
    };
    const page = await time(RUNS, () => memberPage(TARGET));
    const pageBytes = bytes;
    const pageByAppId = await time(RUNS, () => memberPage('user_long'));
    const bare = await time(RUNS, () => db.query('SELECT * FROM memberships WHERE customer_id = $1', [TARGET]));
    const listPage = async (q?: string, filter?: 'in_dunning' | 'past_due') => {
      const list = await listMembers(db, { q, filter, page: 1 });
      return renderPage(MembersListPage({ ...frame, list, q, status: filter, page: 1 }));
    };
    const list = await time(RUNS, () => listPage());
    const search = await time(RUNS, () => listPage('member123'));
    const filtered = await time(RUNS, () => listPage(undefined, 'in_dunning'));
    const listBytes = Buffer.byteLength(await listPage());
    process.stdout.write(
      [
        '',
        `${MEMBERS} members; the page's member: ${LONG.transitions} transitions, ${LONG.events} Stripe events, ${LONG.notices} notices, ${LONG.support} support requests, ${LONG.crmCalls} CRM calls, ${LONG.actions} operator actions; ${RUNS} runs each, one at a time`,
        '',
        '| server time (queries + HTML) | p50 | p95 | p99 |',
        '| --- | ---: | ---: | ---: |',
        row('member page, by customer id', page),
        row('member page, by app user id', pageByAppId),
        row('bare PostgreSQL: SELECT * FROM memberships WHERE customer_id = $1', bare),
        row('members list, first page', list),
        row('members list, search by email prefix', search),
        row('members list, filter in_dunning', filtered),
        '',
        `member page weight: ${(pageBytes / 1024).toFixed(1)} KiB; members list page: ${(listBytes / 1024).toFixed(1)} KiB`,
        '',
      ].join('\n'),
    );
  } finally {
    await db.close();
    if (process.env['KEEP_BENCH_DB'] === '1') process.stdout.write(`kept ${database.url}\n`);
    else await database.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
