/**
 * `npm run doctor` against a deployment made of real parts and local stand-ins: the test stack's Temporal dev server,
 * PostgreSQL and a polling worker; the fake Stripe API (webhook endpoints, read by the real `stripe` library); the
 * fake Intercom (read by the real intercom-client); a local DNS server answering the sender domain's TXT records.
 * Each broken setting turns its own line to FAIL with a fix, leaves the others ok, and makes the exit code 1.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CRM_ATTRIBUTES } from '../activities/crm-sync';
import { EXPECTED_STRIPE_API_VERSION } from '../lib/stripe-events';
import { doctor } from '../api/doctor/run';
import { REQUIRED_EVENT_TYPES } from '../api/doctor/stripe-checks';
import { HANDLED_EVENT_TYPES } from '../workflows/messages';
import { startFakeDns, type FakeDns } from '../tools/testkit/fakes/fake-dns';
import { startFakeIntercom, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { createDb, migrate } from '../lib/db';
import { createTestDatabase } from '../tools/testkit/pg';
import { startHarness, type Harness } from './helpers/harness';

const ROOT = path.resolve(__dirname, '..');
const DOMAIN = 'members.example.test';
const PUBLIC_URL = 'https://app.example.test';
const SELECTOR = 'mo1';

let h: Harness;
let stripe: FakeStripeApi;
let intercom: FakeIntercom;
let dns: FakeDns;

beforeAll(async () => {
  [h, stripe, intercom, dns] = await Promise.all([
    startHarness(),
    startFakeStripeApi(),
    startFakeIntercom(),
    startFakeDns(),
  ]);
  // The workspace as the worker leaves it after its first sync: memberops' contact attributes exist.
  for (const a of CRM_ATTRIBUTES) {
    const res = await fetch(`${intercom.baseUrl}/data_attributes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${intercom.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...a, model: 'contact' }),
    });
    expect(res.status).toBe(200);
  }
});

afterAll(async () => {
  await Promise.all([h?.close(), stripe?.close(), intercom?.close(), dns?.close()]);
});

/** A sender domain whose SPF, DKIM and DMARC records are all in order. */
function goodZone(): void {
  dns.clear();
  dns.setTxt(DOMAIN, ['google-site-verification=abc123', 'v=spf1 include:_spf.mailer.example.test ~all']);
  dns.setTxt('_spf.mailer.example.test', ['v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all']);
  dns.setTxt(`${SELECTOR}._domainkey.${DOMAIN}`, [
    'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b0jYfcTxTQbhGPx7OPoT9xj2TQ==',
  ]);
  dns.setTxt(`_dmarc.${DOMAIN}`, [`v=DMARC1; p=quarantine; rua=mailto:dmarc@${DOMAIN}`]);
}

beforeEach(async () => {
  await stripe.reset();
  stripe.seedWebhookEndpoint({ url: 'https://old.example.test/hooks', enabled_events: ['*'], api_version: null });
  stripe.seedWebhookEndpoint({
    url: `${PUBLIC_URL}/webhooks/stripe`,
    enabled_events: [...REQUIRED_EVENT_TYPES, 'customer.created'],
    api_version: EXPECTED_STRIPE_API_VERSION,
  });
  goodZone();
});

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The environment of a deployment ready to go live, against the test's stand-ins. */
function readyEnv(): Record<string, string> {
  return {
    NODE_ENV: 'test',
    STRIPE_SECRET_KEY: `sk_test_${hex(12)}`,
    STRIPE_API_BASE: stripe.baseUrl,
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64').replace(/[+/=]/g, 'x')}`,
    PUBLIC_URL,
    TEMPORAL_ADDRESS: h.config.temporal.address as string,
    TEMPORAL_TASK_QUEUE: h.config.temporal.taskQueue,
    DATABASE_URL: h.config.databaseUrl as string,
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_BASE_URL: intercom.baseUrl,
    MAIL_SENDER_DOMAIN: DOMAIN,
    MAIL_DKIM_SELECTOR: SELECTOR,
    DOCTOR_DNS_SERVERS: dns.server,
    API_KEYS: hex(32),
    ADMIN_EMAIL: 'founder@example.test',
    ADMIN_PASSWORD_HASH: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    SESSION_SECRET: hex(32),
    LOG_LEVEL: 'silent',
  };
}

const ALL_CHECKS = [
  'stripe.key',
  'stripe.endpoint',
  'stripe.endpoint.enabled',
  'stripe.endpoint.events',
  'stripe.endpoint.api_version',
  'stripe.webhook_secret',
  'temporal.connection',
  'temporal.namespace',
  'temporal.search_attributes',
  'temporal.worker',
  'db.migrations',
  'intercom.token',
  'intercom.attributes',
  'mail.spf',
  'mail.dkim',
  'mail.dmarc',
  'credentials.api_keys',
  'credentials.admin',
];

/** The printed line of a check, and the fix line under it when there is one. */
function lineOf(output: string, id: string): { line: string; fix?: string } {
  const lines = output.split('\n');
  const i = lines.findIndex((l) => l.slice(5).split(/\s+/)[0] === id);
  if (i < 0) throw new Error(`no line for ${id} in:\n${output}`);
  const next = lines[i + 1];
  return {
    line: lines[i] as string,
    fix: next?.startsWith('     fix: ') ? next.slice('     fix: '.length) : undefined,
  };
}

/** Runs the doctor on `env` and checks that exactly the lines of `failing` failed, each with a fix. */
async function expectOnly(env: Record<string, string>, failing: string[]): Promise<string> {
  const { exitCode, output } = await doctor(env);
  for (const id of ALL_CHECKS) {
    const { line, fix } = lineOf(output, id);
    if (failing.includes(id)) {
      expect(line).toMatch(/^FAIL /);
      expect(fix).toEqual(expect.any(String));
    } else expect(line).toMatch(/^ok {3}/);
  }
  expect(exitCode).toBe(failing.length > 0 ? 1 : 0);
  return output;
}

/** `npm run doctor` as an operator runs it (tsx, outside the repository so no .env is read). */
async function runCli(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  try {
    const { stdout } = await promisify(execFile)(tsx, [path.join(ROOT, 'api', 'doctor', 'main.ts')], {
      cwd: tmpdir(),
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '' };
  }
}

describe('npm run doctor', () => {
  it('passes every check of a deployment ready to go live and exits 0', async () => {
    const { code, stdout } = await runCli(readyEnv());
    for (const id of ALL_CHECKS) expect(lineOf(stdout, id).line).toMatch(/^ok {3}/);
    expect(stdout).toMatch(/^Ready: every check passed\.$/m);
    expect(lineOf(stdout, 'temporal.worker').line).toMatch(/1 worker poller/);
    expect(code).toBe(0);
  });

  it('names the event types the endpoint does not receive, and exits 1', async () => {
    await stripe.reset();
    stripe.seedWebhookEndpoint({
      url: `${PUBLIC_URL}/webhooks/stripe`,
      enabled_events: HANDLED_EVENT_TYPES.filter(
        (t) => t !== 'charge.dispute.created' && t !== 'invoice.payment_action_required',
      ),
      api_version: EXPECTED_STRIPE_API_VERSION,
    });
    const output = await expectOnly(readyEnv(), ['stripe.endpoint.events']);
    const { line, fix } = lineOf(output, 'stripe.endpoint.events');
    // checkout.session.expired moves no member, but the checkout completion rate needs it.
    expect(line).toContain(
      'does not receive invoice.payment_action_required, charge.dispute.created, checkout.session.expired',
    );
    expect(fix).toContain('Select events');
  });

  it('reports an endpoint pinned to another API version than memberops expects', async () => {
    await stripe.reset();
    stripe.seedWebhookEndpoint({
      url: `${PUBLIC_URL}/webhooks/stripe`,
      enabled_events: ['*'],
      api_version: '2024-06-20',
    });
    const output = await expectOnly(readyEnv(), ['stripe.endpoint.api_version']);
    expect(lineOf(output, 'stripe.endpoint.api_version').line).toContain(
      `pinned to 2024-06-20, memberops expects ${EXPECTED_STRIPE_API_VERSION}`,
    );
  });

  it('reports a disabled endpoint, and no endpoint at all for this host', async () => {
    await stripe.reset();
    stripe.seedWebhookEndpoint({
      url: `${PUBLIC_URL}/webhooks/stripe`,
      enabled_events: ['*'],
      api_version: EXPECTED_STRIPE_API_VERSION,
      status: 'disabled',
    });
    await expectOnly(readyEnv(), ['stripe.endpoint.enabled']);

    const elsewhere = await doctor({ ...readyEnv(), PUBLIC_URL: 'https://new-host.example.test' });
    expect(lineOf(elsewhere.output, 'stripe.endpoint').line).toMatch(
      /^FAIL stripe\.endpoint +no webhook endpoint for https:\/\/new-host\.example\.test\/webhooks\/stripe/,
    );
    expect(elsewhere.exitCode).toBe(1);
  });

  it('reports an Intercom token that Intercom refuses (revoked)', async () => {
    const { exitCode, output } = await doctor({ ...readyEnv(), INTERCOM_ACCESS_TOKEN: `revoked_${hex(8)}` });
    expect(lineOf(output, 'intercom.token').line).toMatch(/^FAIL intercom\.token +Intercom refused the token \(401\)/);
    expect(lineOf(output, 'intercom.attributes').line).toMatch(/^skip /);
    expect(exitCode).toBe(1);
  });

  it('reports a sender domain without DMARC, through the command line with exit code 1', async () => {
    dns.setTxt(`_dmarc.${DOMAIN}`, []);
    const { code, stdout } = await runCli(readyEnv());
    const { line, fix } = lineOf(stdout, 'mail.dmarc');
    expect(line).toMatch(new RegExp(`^FAIL mail\\.dmarc +${DOMAIN} has no DMARC record at _dmarc\\.${DOMAIN}`));
    expect(fix).toContain('v=DMARC1; p=');
    expect(lineOf(stdout, 'mail.spf').line).toMatch(/^ok {3}/);
    expect(stdout).toMatch(/^Not ready: 1 check\(s\) failed\.$/m);
    expect(code).toBe(1);
  });

  it('reports an SPF record that needs more than 10 DNS lookups', async () => {
    // 2 (a, mx) + include:s1 (1 + its own 2 + include:s3 1+3 + include:s4 1+3) + include:s2 (1) = 14.
    dns.setTxt(DOMAIN, ['v=spf1 a mx include:s1.example.test include:s2.example.test ~all']);
    dns.setTxt('s1.example.test', ['v=spf1 include:s3.example.test include:s4.example.test a mx -all']);
    dns.setTxt('s2.example.test', ['v=spf1 ip4:198.51.100.0/24 -all']);
    dns.setTxt('s3.example.test', ['v=spf1 a mx ptr -all']);
    dns.setTxt('s4.example.test', ['v=spf1 a mx exists:%{i}.spf.example.test -all']);
    const output = await expectOnly(readyEnv(), ['mail.spf']);
    expect(lineOf(output, 'mail.spf').line).toContain('needs 14 DNS lookups, above the limit of 10');
  });

  it('reports an SPF record that lets anyone send, and a revoked DKIM key', async () => {
    dns.setTxt(DOMAIN, ['v=spf1 include:_spf.mailer.example.test +all']);
    dns.setTxt(`${SELECTOR}._domainkey.${DOMAIN}`, ['v=DKIM1; k=rsa; p=']);
    const output = await expectOnly(readyEnv(), ['mail.spf', 'mail.dkim']);
    expect(lineOf(output, 'mail.dkim').line).toContain('revoked (empty p=)');
  });

  it('reports a task queue no worker polls', async () => {
    const output = await expectOnly({ ...readyEnv(), TEMPORAL_TASK_QUEUE: `nobody-${hex(4)}` }, ['temporal.worker']);
    expect(lineOf(output, 'temporal.worker').line).toContain('no worker polls task queue');
  });

  it('lists the migrations a database has not applied yet', async () => {
    const scratch = await createTestDatabase(
      process.env['MEMBEROPS_TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    );
    const dir = path.join(ROOT, 'db', 'migrations');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    const older = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    try {
      // A database left behind by an older release: every migration but the last two.
      for (const f of files.slice(0, -2)) await copyFile(path.join(dir, f), path.join(older, f));
      const db = createDb(scratch.url);
      await migrate(db, older).finally(() => db.close());
      const output = await expectOnly({ ...readyEnv(), DATABASE_URL: scratch.url }, ['db.migrations']);
      const { line, fix } = lineOf(output, 'db.migrations');
      expect(line).toContain(`2 migration(s) not applied: ${files.slice(-2).join(', ')}`);
      expect(fix).toContain('npm run migrate');
    } finally {
      await scratch.drop();
      await rm(older, { recursive: true, force: true });
    }
  });

  it('holds the Stripe key against NODE_ENV: a test key in production, a live key outside it', async () => {
    const prod = await expectOnly({ ...readyEnv(), NODE_ENV: 'production' }, ['stripe.key']);
    expect(lineOf(prod, 'stripe.key').line).toContain('a test-mode key (sk_test_…) with NODE_ENV=production');
    const liveKey = `sk_live_${hex(12)}`;
    const live = await doctor({ ...readyEnv(), STRIPE_SECRET_KEY: liveKey });
    expect(lineOf(live.output, 'stripe.key').line).toMatch(/^FAIL stripe\.key +a live key .* with NODE_ENV=test/);
    // The checklist names the key's kind, never the key.
    expect(live.output).not.toContain(liveKey);
  });

  it('reports a placeholder webhook secret and missing credentials', async () => {
    const env = readyEnv();
    delete (env as Partial<typeof env>).ADMIN_PASSWORD_HASH;
    const output = await expectOnly({ ...env, STRIPE_WEBHOOK_SECRET: 'whsec_replace_me', API_KEYS: 'short-key' }, [
      'stripe.webhook_secret',
      'credentials.api_keys',
      'credentials.admin',
    ]);
    expect(lineOf(output, 'credentials.admin').line).toContain('missing: ADMIN_PASSWORD_HASH');
  });
});
