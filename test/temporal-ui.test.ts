/**
 * The real Temporal UI (the dev server's), in Chromium: a founder filters MembershipStatus="past_due", opens the
 * member, and reads who it is (static summary), where they stand (current details) and what each activity call did
 * (its summary in the event history). Screenshots in test-artifacts/.
 */
import type { Browser, Page } from 'playwright-core';
import { newMember, stripeEvent } from '../tools/testkit/stripe-events';
import { TemporalDevServer } from '../tools/testkit/temporal-dev-server';
import { memberWorkflowId } from '../workflows/messages';
import { artifactPath, launchBrowser } from './helpers/browser';
import { startHarness, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

const cliPath = process.env['MEMBEROPS_TEST_TEMPORAL_CLI'];
// Without a CLI binary the global setup used @temporalio/testing's server, which has no Web UI.
const describeWithCli = cliPath === undefined ? describe.skip : describe;

let server: TemporalDevServer;
let h: Harness;
let browser: Browser;
let page: Page;
const m = newMember();
const email = `${m.customerId.toLowerCase()}@members.test`;

beforeAll(async () => {
  if (!cliPath) return;
  server = await TemporalDevServer.start({ cliPath });
  h = await startHarness({
    temporalAddress: server.address,
    env: { DUNNING_GRACE_PERIOD: '1s', DUNNING_REMINDERS: '0s', DUNNING_CANCEL_AFTER: '1 hour' },
  });
  for (const e of [
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: `app-${m.customerId}`, payment_status: 'paid', customer_details: { email } },
    }),
    stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }),
    stripeEvent('invoice.payment_failed', m, { object: { customer_email: email } }),
  ])
    expect((await h.post(e)).status).toBe(200);
  await h.waitForStatus(m.customerId, 'past_due');
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await server?.stop();
});

describeWithCli('the member workflow in the Temporal UI', () => {
  it('is found by MembershipStatus="past_due" and shows who the member is and where they stand', async () => {
    const query = encodeURIComponent(`MembershipStatus="past_due"`);
    await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${query}`);
    const link = page.getByRole('link', { name: memberWorkflowId(m.customerId) });
    try {
      await link.first().waitFor({ timeout: 40_000 });
    } finally {
      await page.screenshot({ path: artifactPath('temporal-ui-list.png'), fullPage: true });
    }
    await link.first().click();
    await page.getByText(`member ${m.customerId} · ${email}`).first().waitFor({ timeout: 60_000 });
    // UI 2.4x keeps the summary and the current details under "User Metadata" (the details in a Markdown frame).
    await page.getByText('User Metadata', { exact: true }).first().click();
    try {
      await waitFor(
        async () => {
          for (const frame of page.frames()) {
            const text = await frame
              .locator('body')
              .innerText()
              .catch(() => '');
            if (text.includes('past_due since') && text.includes('Dunning: cycle 1')) return true;
          }
          return false;
        },
        { timeoutMs: 30_000, description: 'the current details in the Temporal UI' },
      );
    } finally {
      await page.screenshot({ path: artifactPath('temporal-ui-member.png'), fullPage: true });
    }
    // The event history names the activity calls: the first dunning notice of a one-notice policy.
    try {
      await page.getByText('notice payment_failed 1/1').first().waitFor({ timeout: 30_000 });
    } finally {
      await page.screenshot({ path: artifactPath('temporal-ui-history.png'), fullPage: true });
    }
  }, 150_000);
});
