/**
 * No request can stall the server: free text is capped before any pattern or classifier reads it, and the patterns
 * are linear. Each adversarial 1 MiB body is compared with a benign 1 MiB body sent to the same route in the same test
 * (no absolute timing). PostgreSQL queries carry a statement timeout.
 */
import { randomBytes } from 'node:crypto';
import { signIntercomWebhook } from '../tools/testkit/fakes/fake-intercom';
import { WEBHOOK_BODY_LIMIT } from '../api/routes/stripe-webhook';
import { DependencyUnavailableError } from '../lib/dependency-errors';
import { createDb, migrate } from '../lib/db';
import { conversationUserCreated } from './helpers/intercom-notifications';
import { startHarness, testEnv, type Harness } from './helpers/harness';

jest.setTimeout(120_000);

const clientSecret = `intercom_secret_${randomBytes(12).toString('hex')}`;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { INTERCOM_CLIENT_SECRET: clientSecret } });
});
afterAll(async () => {
  await h?.close();
});

/** A signed conversation.user.created whose body is `html`, under an id no other test uses; its time in ms. */
async function timedIntercomPost(html: string): Promise<{ status: number; ms: number }> {
  const suffix = randomBytes(6).toString('hex');
  const who = { contactId: `contact-${suffix}`, appUserId: `app-${suffix}`, email: `${suffix}@example.test` };
  const payload = JSON.parse(conversationUserCreated(who, `9${Date.now()}${suffix}`, '')) as Record<string, any>;
  payload['data']['item']['source']['body'] = html;
  const body = JSON.stringify(payload);
  expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024 * 1024);
  const started = performance.now();
  const res = await fetch(`${h.api.url}/webhooks/intercom`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature': signIntercomWebhook(body, clientSecret) },
    body,
    signal: AbortSignal.timeout(60_000),
  });
  await res.text();
  return { status: res.status, ms: performance.now() - started };
}

/** Just under the webhook body limit once wrapped in the notification. */
const SIZE = 1024 * 1024 - 8 * 1024;

describe('free text from outside', () => {
  it('answers 1 MiB adversarial Intercom bodies in about the time of a benign 1 MiB body', async () => {
    expect(WEBHOOK_BODY_LIMIT).toBe('1mb');
    const sentence = 'Hello, could you send me the receipt for my last payment please? ';
    const benign = `<p>${sentence.repeat(Math.floor(SIZE / sentence.length) - 1)}</p>`;
    // Warm up (JIT, pool, the classifier's model), then the baseline: the slowest of three benign bodies.
    await timedIntercomPost('<p>warm up</p>');
    const baseline = Math.max(...(await sequential(3, () => timedIntercomPost(benign))).map((r) => r.ms));

    const adversarial: Array<[string, string]> = [
      ['tag openers that never close', '<'.repeat(SIZE)],
      ['a run of spaces with no line end', `<p>a${' '.repeat(SIZE)}b</p>`],
      // A tab is two bytes in JSON (\t).
      ['a run of tabs before a tag', `${'\t'.repeat(SIZE / 2)}<br`],
      ['unclosed line breaks', '<br '.repeat(SIZE / 4)],
      ['one endless word', 'receipt'.repeat(SIZE / 7)],
    ];
    for (const [name, html] of adversarial) {
      const r = await timedIntercomPost(html);
      expect({ name, status: r.status }).toEqual({ name, status: 200 });
      // Linear work on a capped text: within a small multiple of the benign body (quadratic patterns take minutes).
      expect({ name, withinBaseline: r.ms <= 5 * baseline }).toEqual({ name, withinBaseline: true });
    }
  });
});

describe('PostgreSQL', () => {
  it('cancels a query past the statement timeout and reports PostgreSQL unavailable', async () => {
    const db = createDb(testEnv().databaseUrl, { statementTimeoutMs: 200 });
    try {
      await expect(db.query('SELECT pg_sleep(5)')).rejects.toThrow(DependencyUnavailableError);
      // The pool stays usable afterwards.
      expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('keeps the statement timeout on the connection a migration ran on (it lifts it for itself only)', async () => {
    // One connection: the one migrate() used is the one the next query would get if it went back to the pool.
    const db = createDb(testEnv().databaseUrl, { max: 1, statementTimeoutMs: 1234 });
    try {
      await migrate(db);
      const [row] = await db.query<{ statement_timeout: string }>('SHOW statement_timeout');
      expect(row?.statement_timeout).toBe('1234ms');
    } finally {
      await db.close();
    }
  });

  it('gives every pooled connection of the running stack the configured statement timeout', async () => {
    const [row] = await h.db.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(row?.statement_timeout).toBe('15s');
  });
});

async function sequential<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}
