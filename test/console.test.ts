/**
 * The founder's console in a real Chromium against a real stack (Temporal dev server, PostgreSQL, worker, API, a
 * local Intercom): sign in, find a member, read every section, act through the member's workflow, and the
 * guards (CSRF, sign-out). Screenshots go to test-artifacts/.
 */
import { hash } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createIntercomWorkspace } from '../activities/intercom/workspace';
import { createIntercomClient } from '../lib/clients';
import { createDb, type Db } from '../lib/db';
import { createLogger } from '../lib/logger';
import { startFakeIntercom, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { newMember, stripeEvent } from '../tools/testkit/stripe-events';
import { memberWorkflowId } from '../workflows/messages';
import { artifactPath, launchBrowser } from './helpers/browser';
import { startHarness, testEnv, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

const EMAIL = 'founder@community.test';
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const TEMPORAL_UI = 'http://temporal-ui.test:8233';
const DAY = 86_400_000;

let h: Harness;
let workspaceDb: Db;
let fake: FakeIntercom;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const token = `tok_console_${randomBytes(8).toString('hex')}`;
const m = newMember();
const appUserId = `app-${m.customerId.slice(5)}`;
const memberEmail = `${m.customerId.toLowerCase()}@members.test`;

beforeAll(async () => {
  fake = await startFakeIntercom({ token });
  workspaceDb = createDb(testEnv().databaseUrl);
  h = await startHarness({
    env: {
      ADMIN_EMAIL: EMAIL,
      ADMIN_PASSWORD_HASH: await hash(PASSWORD),
      SESSION_SECRET: randomBytes(32).toString('hex'),
      TEMPORAL_UI_URL: TEMPORAL_UI,
      INTERCOM_ACCESS_TOKEN: token,
      INTERCOM_BASE_URL: fake.baseUrl,
      INTERCOM_APP_ID: 'app_console',
      DUNNING_GRACE_PERIOD: '3 days',
      DUNNING_REMINDERS: '0s,2 days',
      DUNNING_CANCEL_AFTER: '14 days',
      OPERATOR_MAX_GRACE_EXTENSION: '7 days',
    },
    // The worker's Intercom workspace over the real intercom-client, pointed at the local stand-in.
    intercom: createIntercomWorkspace({
      client: createIntercomClient({ token, baseUrl: fake.baseUrl, timeoutMs: 1500 }),
      db: workspaceDb,
      log: createLogger({ level: 'silent', name: 'console-test' }),
    }),
  });
  await scriptedLifecycle();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await workspaceDb?.close();
  await fake?.close();
});

/** Checkout, a failed payment (grace period, first reminder), a support request and the CRM sync that follows. */
async function scriptedLifecycle(): Promise<void> {
  for (const e of [
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: appUserId, payment_status: 'paid', customer_details: { email: memberEmail } },
    }),
    stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }),
  ])
    expect((await h.post(e)).status).toBe(200);
  await h.waitForStatus(m.customerId, 'active');
  const failed = stripeEvent('invoice.payment_failed', m, {
    object: {
      hosted_invoice_url: `https://invoice.stripe.com/i/acct_test/${m.customerId}`,
      customer_email: memberEmail,
    },
  });
  expect((await h.post(failed)).status).toBe(200);
  // Stripe redelivers: the page shows two deliveries of the one event.
  expect((await h.post(failed)).status).toBe(200);
  await h.waitForStatus(m.customerId, 'grace_period');
  const support = await h.fetch('/support/requests', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      memberId: appUserId,
      subject: 'Charge',
      body: 'I was charged twice this month, please refund one',
    }),
  });
  expect(support.status).toBe(202);
  await waitFor(
    async () => {
      const [notice] = await h.db.query(`SELECT 1 FROM member_notices WHERE customer_id = $1 AND status = 'sent'`, [
        m.customerId,
      ]);
      const [crm] = await h.db.query(`SELECT 1 FROM crm_sync_state WHERE customer_id = $1 AND last_outcome = 'ok'`, [
        m.customerId,
      ]);
      const [req] = await h.db.query(`SELECT 1 FROM support_requests WHERE customer_id = $1 AND outcome <> 'pending'`, [
        m.customerId,
      ]);
      return Boolean(notice && crm && req);
    },
    { timeoutMs: 30_000, description: 'the first reminder sent, the CRM synced and the support request handled' },
  );
}

const memberJson = async () => (await h.get(`/members/${m.customerId}`)).body;
const graceEndsOnPage = async () => page.locator('[data-testid="grace-ends"] time').getAttribute('datetime');
/** Posts a form of the member page and waits for the page it redirects to (the same URL, so not waitForURL). */
async function submit(button: string): Promise<void> {
  await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === 'GET' && /^\/admin\/members\/[^/]+$/.test(new URL(r.url()).pathname),
    ),
    page.click(button),
  ]);
  await page.waitForLoadState('load');
}
const flash = () => page.locator('[data-testid="flash"]').innerText();

describe('the founder console in a browser', () => {
  it('signs the founder in and finds the member by email', async () => {
    await page.goto(`${h.api.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.fill('input[name=email]', EMAIL);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(`${h.api.url}/admin`), page.click('button[type=submit]')]);
    const [{ n: inGrace }] = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM memberships WHERE status = 'grace_period'`,
    );
    expect(await page.locator('.counts a[data-status="grace_period"] b').innerText()).toBe(String(inGrace));

    await page.fill('input[name=q]', memberEmail.toUpperCase());
    await Promise.all([page.waitForURL(/\?q=/), page.click('form[role=search] button')]);
    expect(new URL(page.url()).searchParams.get('q')).toBe(memberEmail.toUpperCase());
    const rows = page.locator('[data-testid=members] tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain(m.customerId);
    await page.screenshot({ path: artifactPath('console-members-list.png'), fullPage: true });

    await page.goto(`${h.api.url}/admin?status=in_dunning&q=${encodeURIComponent(appUserId)}`);
    expect(await rows.count()).toBe(1);
    await page.goto(`${h.api.url}/admin?status=canceled&q=${encodeURIComponent(appUserId)}`);
    expect(await rows.count()).toBe(0);
    // The support request went to a person (a disputed charge): open until someone answers it.
    await page.goto(`${h.api.url}/admin?status=open_support&q=${encodeURIComponent(appUserId)}`);
    expect(await rows.count()).toBe(1);
    // The CRM sync succeeded: not among the failing ones.
    await page.goto(`${h.api.url}/admin?status=crm_failing&q=${encodeURIComponent(appUserId)}`);
    expect(await rows.count()).toBe(0);
    // No Stripe event of this member was set aside; one memberops cannot read (a status Stripe adds later) is.
    await page.goto(`${h.api.url}/admin?status=event_set_aside&q=${encodeURIComponent(appUserId)}`);
    expect(await rows.count()).toBe(0);
    const unreadable = stripeEvent('customer.subscription.updated', m, { object: { status: 'paused_for_review' } });
    expect((await h.post(unreadable)).body).toMatchObject({ outcome: 'set_aside' });
    await page.goto(`${h.api.url}/admin?status=event_set_aside&q=${encodeURIComponent(appUserId)}`);
    expect(await rows.count()).toBe(1);
  });

  it('shows profile, status, dunning, transitions, Stripe events, notices, CRM and support on one page', async () => {
    await page.goto(`${h.api.url}/admin?q=${encodeURIComponent(memberEmail)}`);
    await Promise.all([page.waitForURL(/\/admin\/members\//), page.click(`a[href="/admin/members/${m.customerId}"]`)]);
    const res = await page.request.get(page.url());
    expect((await res.body()).length).toBeLessThan(100_000);
    const csp = res.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');

    const member = await memberJson();
    expect(await page.locator('[data-testid=email]').innerText()).toBe(memberEmail);
    expect(await page.locator('[data-testid=app-user-id]').innerText()).toBe(appUserId);
    expect(await page.locator('[data-testid=access]').innerText()).toBe('allowed');
    expect(await page.locator('[data-testid=reason]').innerText()).toBe(member.reason);
    expect(await graceEndsOnPage()).toBe(member.dunning.graceEndsAt);
    expect(await page.locator('[data-testid=reminders-sent]').innerText()).toBe(String(member.dunning.remindersSent));
    expect(await page.locator('a', { hasText: 'Stripe Dashboard' }).getAttribute('href')).toBe(
      `https://dashboard.stripe.com/test/customers/${m.customerId}`,
    );
    expect(await page.locator('[data-testid=temporal-link]').getAttribute('href')).toBe(
      `${TEMPORAL_UI}/namespaces/default/workflows/${memberWorkflowId(m.customerId)}`,
    );
    const transitions = await page.locator('[data-testid=transitions]').innerText();
    expect(transitions).toContain('invoice.payment_failed');
    expect(transitions).toContain('grace_period');
    const events = page.locator('[data-testid=events] tr', { hasText: 'invoice.payment_failed' });
    expect(await events.innerText()).toMatch(/handed_off\s+2/);
    const notices = await page.locator('[data-testid=notices]').innerText();
    for (const n of member.notices) expect(notices).toContain(n.kind);
    expect(notices).toContain('sent');
    expect(await page.locator('[data-testid=crm-outcome]').innerText()).toMatch(/^ok/);
    expect(await page.locator('[data-testid=crm-tags]').innerText()).toContain('payment_failed');
    const support = await page.locator('[data-testid=support]').innerText();
    expect(support).toContain(member.support[0].intent);
    expect(support).toContain(member.support[0].route);
    await page.screenshot({ path: artifactPath('console-member-page.png'), fullPage: true });
  });

  it('extends the grace period from the page: the new deadline on the page, in GET /members/:id and in the history', async () => {
    const before = Date.parse((await graceEndsOnPage()) as string);
    await page.fill('form[action$="/extend_grace"] input[name=extend_by]', '2 days');
    await page.fill('form[action$="/extend_grace"] input[name=reason]', 'card in the mail');
    await submit('form[action$="/extend_grace"] button');
    expect(await flash()).toContain('grace period now ends');
    const after = new Date(before + 2 * DAY).toISOString();
    expect(await graceEndsOnPage()).toBe(after);
    await waitFor(async () => (await memberJson()).dunning?.graceEndsAt === after, {
      description: 'the projection to carry the new grace end',
    });
    const history = await h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).fetchHistory();
    const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const names = accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name);
    expect(names).toContain('extendGracePeriod');
    // The Temporal UI's words for the member: the static summary, and current details showing the new grace end.
    const handle = h.temporal.workflow.getHandle(memberWorkflowId(m.customerId));
    expect(await (await handle.describe()).staticSummary()).toBe(`member ${m.customerId} · ${memberEmail}`);
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('**grace_period**');
    expect(metadata.currentDetails).toContain(`grace ends ${after.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC')}`);
    expect(await page.locator('[data-testid=audit]').innerText()).toMatch(/founder@community\.test\s+extend_grace/);
  });

  it('shows the validator message when the extension is longer than allowed, and changes nothing', async () => {
    const before = await graceEndsOnPage();
    await page.fill('form[action$="/extend_grace"] input[name=extend_by]', '30 days');
    await page.fill('form[action$="/extend_grace"] input[name=reason]', 'too generous');
    await submit('form[action$="/extend_grace"] button');
    expect(await flash()).toContain('at most 7 days');
    expect(await page.locator('[data-testid=flash]').getAttribute('class')).toContain('rejected');
    expect(await graceEndsOnPage()).toBe(before);
    expect(await page.locator('[data-testid=audit] tr').first().innerText()).toContain('rejected');
  });

  it('resends the payment link and retries the CRM sync through the workflow', async () => {
    await submit('form[action$="/resend_payment_link"] button');
    expect(await flash()).toContain('payment link queued');
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM member_notices WHERE customer_id = $1 AND key LIKE '%:operator:%' AND status = 'sent'`,
            [m.customerId],
          )
        ).length === 1,
      { description: 'the resent payment link to be sent' },
    );
    await submit('form[action$="/retry_crm_sync"] button');
    expect(await flash()).toContain('CRM sync queued');
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM crm_sync_log WHERE customer_id = $1 AND key LIKE '%:op:%' AND outcome = 'ok'`,
            [m.customerId],
          )
        ).length > 0,
      { description: 'the operator CRM sync to succeed' },
    );
    await page.fill('form[action$="/note"] textarea[name=text]', 'Called <b>them</b>: card arrives Friday');
    await submit('form[action$="/note"] button');
    expect(await flash()).toContain('note added');
    expect(await page.locator('[data-testid=audit]').innerText()).toContain('Called <b>them</b>: card arrives Friday');
  });

  it('revokes and restores access by a manual override that GET /members/:id/access reflects', async () => {
    await page.selectOption('form[action$="/access_override"] select[name=mode]', 'revoke');
    await page.fill('form[action$="/access_override"] input[name=reason]', 'chargeback under review');
    await submit('form[action$="/access_override"] button');
    expect(await flash()).toContain('access revoked until');
    const revoked = await waitFor(
      async () => {
        const r = await h.get(`/members/${appUserId}/access`);
        return r.body.allowed === false ? r.body : undefined;
      },
      { description: 'the access check to deny the member' },
    );
    expect(revoked.reason).toContain('chargeback under review');
    await page.selectOption('form[action$="/access_override"] select[name=mode]', 'clear');
    await submit('form[action$="/access_override"] button');
    expect(await flash()).toContain('override removed');
    await waitFor(async () => (await h.get(`/members/${appUserId}/access`)).body.allowed === true, {
      description: 'access back to what the status gives',
    });
  });

  it('refuses an action without the CSRF token and records nothing', async () => {
    const [{ n: before }] = await h.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM operator_actions WHERE customer_id = $1',
      [m.customerId],
    );
    const url = `${h.api.url}/admin/members/${m.customerId}/actions/extend_grace`;
    const forged = await page.request.post(url, { form: { extend_by: '1 day', reason: 'x', _csrf: 'forged' } });
    expect(forged.status()).toBe(403);
    const missing = await page.request.post(url, { form: { extend_by: '1 day', reason: 'x' } });
    expect(missing.status()).toBe(403);
    const [{ n: after }] = await h.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM operator_actions WHERE customer_id = $1',
      [m.customerId],
    );
    expect(after).toBe(before);
  });

  it('signs out: the member page and the actions need a new sign-in', async () => {
    await page.goto(`${h.api.url}/admin/members/${m.customerId}`);
    await Promise.all([page.waitForURL(/\/admin\/login/), page.click('header button')]);
    await page.goto(`${h.api.url}/admin/members/${m.customerId}`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    const res = await page.request.post(`${h.api.url}/admin/members/${m.customerId}/actions/note`, {
      form: { text: 'after sign-out' },
    });
    expect(res.status()).toBe(401);
  });
});
