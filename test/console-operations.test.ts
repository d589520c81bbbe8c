/**
 * The console's Operations page in a real Chromium against a real stack and the local Stripe stand-in: the founder
 * starts the backfill with a button, watches its progress to the end, finds the members on the list page, and reads
 * what a reconciliation run found. Screenshots go to test-artifacts/.
 */
import { hash } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { createStripeClient } from '../lib/clients';
import { startFakeStripeApi, type FakeStripeApi, type PopulationMember } from '../tools/testkit/fakes/fake-stripe-api';
import { BACKFILL_WORKFLOW_ID } from '../workflows/backfill';
import { ensureReconcileSchedule, RECONCILE_SCHEDULE_ID } from '../worker/reconcile-schedule';
import { mismatches, membersWithPrefix } from './helpers/backfill';
import { artifactPath, launchBrowser } from './helpers/browser';
import { startHarness, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

const EMAIL = 'founder@community.test';
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const CUSTOMERS = 300;
const PREFIX = 'cus_ops';

let h: Harness;
let fake: FakeStripeApi;
let browser: Browser;
let page: Page;
let population: PopulationMember[];

beforeAll(async () => {
  fake = await startFakeStripeApi({ secretKey: 'sk_test_operations' });
  population = fake.seedPopulation(CUSTOMERS, { prefix: PREFIX });
  h = await startHarness({
    stripe: createStripeClient({ secretKey: 'sk_test_operations', apiBase: fake.baseUrl }),
    env: {
      STRIPE_SECRET_KEY: 'sk_test_operations',
      STRIPE_API_BASE: fake.baseUrl,
      ADMIN_EMAIL: EMAIL,
      ADMIN_PASSWORD_HASH: await hash(PASSWORD),
      SESSION_SECRET: randomBytes(32).toString('hex'),
    },
  });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
  await page.goto(`${h.api.url}/admin`);
  await page.fill('input[name=email]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${h.api.url}/admin`), page.click('button[type=submit]')]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await fake?.close();
});

/** The current run of the backfill workflow, if any (the Temporal server and database are shared by the whole test run). */
const backfillRunId = () =>
  h.temporal.workflow
    .getHandle(BACKFILL_WORKFLOW_ID)
    .describe()
    .then((d) => d.runId)
    .catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
const startBackfillActions = async () =>
  (await h.db.query(`SELECT 1 FROM operator_actions WHERE kind = 'start_backfill'`)).length;

const text = (testId: string) => page.locator(`[data-testid="${testId}"]`).innerText();
/** Clicks the start button and waits for the Operations page the POST redirects to. */
async function startBackfill(): Promise<void> {
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/admin/operations'),
    page.click('[data-testid="start-backfill"]'),
  ]);
  await page.waitForLoadState('load');
}

describe('the Operations page', () => {
  it('refuses to start a backfill without a founder session or without the CSRF token', async () => {
    const runBefore = await backfillRunId();
    const actionsBefore = await startBackfillActions();
    const anonymous = await fetch(`${h.api.url}/admin/operations/backfill`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const forged = await page.request.post(`${h.api.url}/admin/operations/backfill`, {
      form: { _csrf: 'not-the-token' },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    expect(await backfillRunId()).toBe(runBefore);
    expect(await startBackfillActions()).toBe(actionsBefore);
  });

  it('starts the backfill with a button, attaches on a second press, and shows progress until done', async () => {
    await page.click('[data-testid="operations-link"]');
    await page.waitForURL(`${h.api.url}/admin/operations`);
    if ((await backfillRunId()) === undefined) expect(await text('backfill-status')).toBe('never run');
    const runsShown = Math.min(20, (await h.db.query('SELECT 1 FROM reconcile_runs')).length);
    expect(await page.locator('[data-testid="reconcile-runs"] tbody tr').count()).toBe(runsShown);

    // Stripe holds the first page's answer back a while: the second press surely finds the backfill running.
    fake.delay(3000, { times: 1, match: { path: /^\/v1\/customers$/ } });
    await startBackfill();
    expect(await text('flash')).toContain('Backfill started');
    const { runId } = await h.temporal.workflow.getHandle(BACKFILL_WORKFLOW_ID).describe();
    await startBackfill();
    expect(await text('flash')).toContain('already running');
    expect((await h.temporal.workflow.getHandle(BACKFILL_WORKFLOW_ID).describe()).runId).toBe(runId);

    // The page reloads itself while the backfill runs (a meta refresh: the CSP allows no script).
    await waitFor(async () => (await text('backfill-status').catch(() => '')) === 'done', {
      timeoutMs: 120_000,
      description: 'the Operations page to show the backfill done',
    });
    expect(await text('backfill-customers')).toBe(String(CUSTOMERS));
    expect(await text('backfill-created')).toBe(String(CUSTOMERS));
    expect(await text('backfill-updated')).toBe('0');
    expect(await text('backfill-pages')).toBe(String(Math.ceil(CUSTOMERS / 100)));
    await page.screenshot({ path: artifactPath('console-operations-backfill.png'), fullPage: true });

    const actions = await h.db.query<{ kind: string; customer_id: string | null; actor: string; result: string }>(
      `SELECT kind, customer_id, actor, result FROM operator_actions WHERE kind = 'start_backfill' ORDER BY at`,
    );
    expect(actions).toEqual([
      { kind: 'start_backfill', customer_id: null, actor: EMAIL, result: 'ok' },
      { kind: 'start_backfill', customer_id: null, actor: EMAIL, result: 'ok' },
    ]);
    const metrics = await h.fetch('/metrics').then((r) => r.text());
    expect(metrics).toMatch(/memberops_operator_actions_total\{kind="start_backfill"\} 2/);
  }, 180_000);

  it('shows every backfilled member on the list page', async () => {
    await waitFor(async () => mismatches(await membersWithPrefix(h.db, PREFIX), population).length === 0, {
      timeoutMs: 120_000,
      intervalMs: 1000,
      description: `${CUSTOMERS} members projected with Stripe's states`,
    });
    // Other test files share this database: the page's figures must match it, this population included.
    await page.goto(`${h.api.url}/admin`);
    const [{ total, active }] = await h.db.query<{ total: number; active: number }>(
      `SELECT count(*)::int AS total, (count(*) FILTER (WHERE status = 'active'))::int AS active FROM memberships`,
    );
    expect(total).toBeGreaterThanOrEqual(CUSTOMERS);
    expect(await page.locator('main p.muted').first().innerText()).toBe(`${total} members`);
    expect(await page.locator('.counts a[data-status="active"] b').innerText()).toBe(String(active));
  }, 150_000);

  it('lists a reconciliation run with the webhook it found missing', async () => {
    const member = population.find((m) => m.stripeStatus === 'active' && !m.cancelAtPeriodEnd);
    if (!member?.subscriptionId) throw new Error('population has an active member');
    const sub = fake.subscription(member.subscriptionId) as Record<string, unknown>;
    Object.assign(sub, { status: 'canceled', canceled_at: Math.floor(Date.now() / 1000) });
    // Stripe emits the event; its webhook delivery is dropped on purpose.
    fake.emitEvent('customer.subscription.deleted', sub);

    const [{ last }] = await h.db.query<{ last: string }>('SELECT coalesce(max(id), 0)::text AS last FROM reconcile_runs');
    await ensureReconcileSchedule(h.temporal, { taskQueue: h.config.temporal.taskQueue, everyMs: 3_600_000 });
    await h.temporal.schedule.getHandle(RECONCILE_SCHEDULE_ID).trigger();
    const [run] = await waitFor(
      async () => {
        const rows = await h.db.query<{ id: string }>('SELECT id::text AS id FROM reconcile_runs WHERE id > $1', [last]);
        return rows.length ? rows : undefined;
      },
      { timeoutMs: 30_000, description: 'a reconciliation run recorded' },
    );

    await page.goto(`${h.api.url}/admin/operations`);
    const row = page.locator(`[data-testid="reconcile-runs"] tbody tr[data-run="${run?.id}"]`);
    expect(await row.locator('[data-testid="missed"]').innerText()).toBe('1');
    expect(await row.locator('[data-testid="drift"]').innerText()).toBe('0');
    await page.screenshot({ path: artifactPath('console-operations-reconcile.png'), fullPage: true });
    await h.waitForStatus(member.customerId, 'canceled');
  }, 60_000);
});
