/**
 * The Next.js example (examples/next-app) in a real browser (Debian's chromium through playwright-core) against a real
 * memberops: who gets into the member area, how fast a cancellation closes it, the billing page's explanation and
 * portal link, the support form, the Messenger's verified identity, and the API key never reaching the browser.
 */
import jwt from 'jsonwebtoken';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createStripeClient } from '../lib/clients';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { REPO_ROOT } from '../tools/testkit/children';
import { newMember, nextCreated, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { startHarness, type Harness } from './helpers/harness';
import { buildNextApp, EXAMPLE_INTERCOM_APP_ID, startNextApp, type NextAppServer } from './helpers/next-app';
import { waitFor } from './helpers/wait-for';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'next-app');
/** The example's access cache (MEMBEROPS_ACCESS_CACHE_SECONDS), the README's default. */
const ACCESS_CACHE_SECONDS = 5;
/** What the README allows on top of the cache for the projection to see the event (usually well under a second). */
const PROJECTION_ALLOWANCE_MS = 5000;
const PAYMENT_LINK = 'https://buy.stripe.com/test_next_example';
const messengerSecret = `messenger_${randomBytes(16).toString('hex')}`;

let h: Harness;
let stripeApi: FakeStripeApi;
let app: NextAppServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Every response any page of the file received: URL, content type, headers and body. */
const received: Array<{ url: string; type: string; text: string }> = [];
const recording: Array<Promise<void>> = [];
/** Requests for Intercom's widget script (the loader's), answered here: the real widget cannot load offline. */
const widgetRequests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  stripeApi = await startFakeStripeApi({ secretKey: 'sk_test_next_app' });
  const stripe = createStripeClient({ secretKey: 'sk_test_next_app', apiBase: stripeApi.baseUrl });
  const [harness, build] = await Promise.all([
    startHarness({
      stripe,
      env: { STRIPE_SECRET_KEY: 'sk_test_next_app', INTERCOM_MESSENGER_SECRET: messengerSecret, INTERCOM_APP_ID: EXAMPLE_INTERCOM_APP_ID },
    }),
    buildNextApp(),
  ]);
  h = harness;
  if (build.built) console.log(`next build took ${build.ms} ms`);
  app = await startNextApp({
    MEMBEROPS_URL: h.api.url,
    MEMBEROPS_API_KEY: h.apiKey,
    MEMBEROPS_ACCESS_CACHE_SECONDS: String(ACCESS_CACHE_SECONDS),
    STRIPE_PAYMENT_LINK_URL: PAYMENT_LINK,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 6 * 60_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await h?.close();
  await stripeApi?.close();
});

/** A fresh browser profile whose every response is recorded; Intercom's and Stripe's hosts are answered locally. */
async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  await context.route('https://widget.intercom.io/**', (route) => {
    widgetRequests.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/javascript', body: '/* the widget cannot load here */' });
  });
  await context.route('https://billing.stripe.com/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Stripe Billing Portal (stand-in)</h1>' }),
  );
  context.on('response', (res) => {
    recording.push(
      (async () => {
        // Redirects and aborted loads have no body; their headers are still what the browser got.
        const body = await res.body().then((b) => b.toString('utf8'), () => '');
        const headers = JSON.stringify(await res.allHeaders().catch(() => ({})));
        received.push({ url: res.url(), type: res.headers()['content-type'] ?? '', text: `${headers}\n${body}` });
      })(),
    );
  });
  return context.newPage();
}

async function signIn(page: Page, userId: string): Promise<void> {
  await page.goto(`${app.url}/sign-in`);
  await page.fill('#userId', userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The action lands on /members, which the proxy may send on to /billing: wait for a page, not a URL.
  await page.locator('[data-testid=member-area], [data-testid=billing-status]').waitFor();
}

type AppMember = MemberIds & { appUserId: string; email: string };

/** A member who paid through a Checkout carrying the app's user id; `status` is the subscription's. */
async function member(status: 'active' | 'trialing'): Promise<AppMember> {
  const ids = newMember();
  const m = { ...ids, appUserId: `app-${ids.customerId.slice(4)}`, email: `${ids.customerId.toLowerCase()}@members.test` };
  const events = [
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: m.appUserId, payment_status: status === 'active' ? 'paid' : 'no_payment_required', customer_details: { email: m.email } },
    }),
    stripeEvent('customer.subscription.created', m, {
      object: { status, ...(status === 'trialing' ? { trial_end: nextCreated() + 7 * 86400 } : {}) },
    }),
    // The invoice carries the member's email too (the fixture's own would otherwise win when it applies last).
    ...(status === 'active' ? [stripeEvent('invoice.paid', m, { object: { customer_email: m.email } })] : []),
  ];
  for (const e of events) expect((await h.post(e)).status).toBe(200);
  await h.waitForStatus(m.appUserId, status, 30_000);
  return m;
}

const onMemberArea = async (page: Page): Promise<boolean> =>
  new URL(page.url()).pathname === '/members' && (await page.getByTestId('member-area').count()) === 1;

describe('the Next.js example app', () => {
  it('shows the member area to an active member and boots the Messenger with a token memberops signed for them', async () => {
    const m = await member('active');
    const page = await newPage();
    await signIn(page, m.appUserId);
    expect(await onMemberArea(page)).toBe(true);
    await expect(page.getByTestId('member-status').textContent()).resolves.toBe('active');

    const settings = await waitFor(
      () => page.evaluate(() => (globalThis as any).intercomSettings as Record<string, unknown> | undefined),
      { description: 'the Messenger to be booted' },
    );
    // Identity only through the signed token: no email, name or user id the browser could have chosen.
    expect(Object.keys(settings).sort()).toEqual(['api_base', 'app_id', 'installation_type', 'intercom_user_jwt']);
    expect(settings['app_id']).toBe(EXAMPLE_INTERCOM_APP_ID);
    const claims = jwt.verify(String(settings['intercom_user_jwt']), messengerSecret, { algorithms: ['HS256'] });
    expect(claims).toMatchObject({ user_id: m.appUserId, email: m.email });
    // The SDK's loader put Intercom's widget script on the page and queued calls for it.
    const loader = await page.evaluate(() => (globalThis as any).document.getElementById('_intercom_npm_loader')?.src as string | undefined);
    expect(loader).toBe(`https://widget.intercom.io/widget/${EXAMPLE_INTERCOM_APP_ID}`);
    await waitFor(() => widgetRequests.includes(loader!), { description: 'the widget script to be requested' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'member-area.png'), fullPage: true });

    // Sign-out ends the Messenger's session before the app's.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    const queued = await page.evaluate(() =>
      ((globalThis as any).Intercom?.q ?? []).map((args: ArrayLike<unknown>) => Array.from(args)[0]),
    );
    expect(queued).toContain('shutdown');
    await page.goto(`${app.url}/members`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  });

  it('redirects the same member to the billing page within the access cache TTL after customer.subscription.deleted', async () => {
    const m = await member('active');
    const page = await newPage();
    await signIn(page, m.appUserId);
    expect(await onMemberArea(page)).toBe(true); // the app now holds an allowed answer in its cache

    expect((await h.post(stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } }))).status).toBe(200);
    const deliveredAt = Date.now();
    await waitFor(
      async () => {
        await page.goto(`${app.url}/members`);
        return new URL(page.url()).pathname === '/billing';
      },
      { timeoutMs: ACCESS_CACHE_SECONDS * 1000 + PROJECTION_ALLOWANCE_MS, intervalMs: 250, description: 'the member area to close' },
    );
    console.log(`canceled member redirected ${Date.now() - deliveredAt} ms after the webhook was accepted`);
    await expect(page.getByTestId('billing-status').textContent()).resolves.toBe('canceled');
    await expect(page.getByTestId('billing-reason').textContent()).resolves.toMatch(/\S/);
  });

  it('lets a trialing member in', async () => {
    const m = await member('trialing');
    const page = await newPage();
    await signIn(page, m.appUserId);
    expect(await onMemberArea(page)).toBe(true);
    await expect(page.getByTestId('member-status').textContent()).resolves.toBe('trialing');
  });

  it('blocks a refunded member, explains why, and sends them to a Billing Portal session made server side (or says Stripe is down)', async () => {
    const m = await member('active');
    expect(
      (await h.post(stripeEvent('charge.refunded', m, { object: { amount: 4999, amount_captured: 4999, amount_refunded: 4999, refunded: true } })))
        .status,
    ).toBe(200);
    const refunded = await h.waitForStatus(m.appUserId, 'refunded', 30_000);
    const page = await newPage();
    await signIn(page, m.appUserId);
    expect(new URL(page.url()).pathname).toBe('/billing');
    await expect(page.getByTestId('billing-status').textContent()).resolves.toBe('refunded');
    await expect(page.getByTestId('billing-reason').textContent()).resolves.toBe(refunded.reason);
    await page.screenshot({ path: path.join(ARTIFACTS, 'blocked.png'), fullPage: true });
    // Trying the member area directly changes nothing.
    await page.goto(`${app.url}/members/support`);
    expect(new URL(page.url()).pathname).toBe('/billing');

    // Stripe down for one call: the page says so instead of an error page, and the next click gets through.
    stripeApi.fail({ status: 503, times: 1, match: { method: 'POST', path: /^\/v1\/billing_portal\/sessions$/ } });
    await page.getByTestId('billing-portal').click();
    await page.getByTestId('portal-unavailable').waitFor();
    await page.getByTestId('billing-portal').click();
    await page.waitForURL(/^https:\/\/billing\.stripe\.com\/p\/session\//);
    const sessions = stripeApi.calls.filter((c) => c.path === '/v1/billing_portal/sessions' && c.status === 200);
    expect(sessions.map((c) => c.params['customer'])).toContain(m.customerId);
  });

  it("sends a user who never paid to the billing page with a checkout link carrying their user id", async () => {
    const userId = `app-new-${randomBytes(4).toString('hex')}`;
    const page = await newPage();
    await signIn(page, userId);
    expect(new URL(page.url()).pathname).toBe('/billing');
    await expect(page.getByTestId('billing-status').textContent()).resolves.toBe('none');
    const href = await page.getByTestId('checkout-link').getAttribute('href');
    const checkout = new URL(href!);
    expect(`${checkout.origin}${checkout.pathname}`).toBe(PAYMENT_LINK);
    expect(checkout.searchParams.get('client_reference_id')).toBe(userId);
  });

  it("posts the support form through memberops with the signed-in member's id", async () => {
    const m = await member('active');
    const page = await newPage();
    await signIn(page, m.appUserId);
    await page.goto(`${app.url}/members/support`);
    await page.fill('#subject', 'Invoice question');
    await page.fill('#body', 'Where can I download my last invoice?');
    await page.getByRole('button', { name: 'Send' }).click();
    const sent = await page.getByTestId('support-sent').textContent();
    const requestId = /request (\S+)\)/.exec(sent ?? '')?.[1];
    expect(requestId).toBeDefined();
    const history = await waitFor(async () => {
      const r = await h.get(`/members/${m.appUserId}`);
      return (r.body.support as Array<{ requestId: string; source: string }>).find((s) => s.requestId === requestId);
    });
    expect(history.source).toBe('api');
  });

  it('keeps the member area closed while memberops cannot be reached (fails closed)', async () => {
    // A port that was just free and is closed again: nothing answers there.
    const closed = await new Promise<string>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(`http://127.0.0.1:${port}`));
      });
    });
    const offline = await startNextApp({ MEMBEROPS_URL: closed, MEMBEROPS_API_KEY: h.apiKey, STRIPE_PAYMENT_LINK_URL: PAYMENT_LINK });
    try {
      const page = await newPage();
      await page.goto(`${offline.url}/sign-in`);
      await page.fill('#userId', 'app-while-memberops-is-down');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('billing-unavailable').waitFor();
      await page.goto(`${offline.url}/members`);
      expect(new URL(page.url()).pathname).toBe('/billing');
      expect(await page.getByTestId('member-area').count()).toBe(0);
    } finally {
      await offline.close();
    }
  });

  it('never lets the API key reach the browser: no page, script or response carries it', async () => {
    const m = await member('active');
    const page = await newPage();
    await signIn(page, m.appUserId);
    for (const p of ['/', '/members', '/members/support', '/billing', '/sign-in']) await page.goto(`${app.url}${p}`);
    await Promise.all(recording);
    const scripts = received.filter((r) => r.type.includes('javascript') && r.url.startsWith(app.url));
    expect(scripts.length).toBeGreaterThan(0);
    expect(received.filter((r) => r.url.startsWith(app.url) && r.type.includes('text/html')).length).toBeGreaterThan(0);
    expect(received.filter((r) => r.text.includes(h.apiKey)).map((r) => r.url)).toEqual([]);
    // The browser never talks to memberops itself.
    expect(received.filter((r) => r.url.startsWith(h.api.url))).toEqual([]);
  });
});
