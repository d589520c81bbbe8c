/**
 * Temporal goes away: webhooks answer 503 so Stripe retries, reads keep answering from PostgreSQL,
 * and after the restart the redelivered event is processed. Nothing is lost.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOrBuildTemporalCli } from '../tools/testkit/temporal-cli';
import { TemporalDevServer } from '../tools/testkit/temporal-dev-server';
import { startHarness, type Harness } from './helpers/harness';
import { newMember, stripeEvent } from '../tools/testkit/stripe-events';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(120_000);

let server: TemporalDevServer;
let h: Harness;
beforeAll(async () => {
  const cliPath = process.env['MEMBEROPS_TEST_TEMPORAL_CLI'] ?? (await findOrBuildTemporalCli({ envPath: process.env['TEMPORAL_CLI_PATH'] }));
  if (!cliPath) throw new Error('no Temporal CLI');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'memberops-outage-'));
  server = await TemporalDevServer.start({ cliPath, headless: true, dbFilename: path.join(dir, 'temporal.db') });
  h = await startHarness({ temporalAddress: server.address });
});
afterAll(async () => {
  await h?.close();
  await server?.stop();
});

it('answers 503 while Temporal is down, keeps serving reads, and processes the redelivery after the restart', async () => {
  const m = newMember();
  expect((await h.post(stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }))).status).toBe(200);
  await h.waitForStatus(m.customerId, 'active');

  await server.stop();
  const deletion = stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } });
  const during = await h.post(deletion);
  expect(during.status).toBe(503);

  // The app's access checks do not depend on Temporal.
  const access = await h.get(`/members/${m.customerId}/access`);
  expect(access).toEqual({ status: 200, body: { memberId: m.customerId, status: 'active', allowed: true, reason: 'subscription active' } });
  expect((await h.get(`/members/${m.customerId}`)).status).toBe(200);
  // Ready for reads (the API's role), degraded for intake; a worker cannot be seen.
  expect(await h.get('/readyz')).toEqual({
    status: 200,
    body: expect.objectContaining({ status: 'degraded', checks: expect.objectContaining({ temporal: expect.objectContaining({ ok: false }) }) }),
  });
  expect((await h.get('/readyz?include=worker')).status).toBe(503);

  await server.restart();
  // Stripe redelivers the same event (same id) after a 5xx.
  const redelivered = await waitFor(
    async () => {
      const r = await h.post(deletion);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, description: 'the redelivery to be accepted' },
  );
  expect(redelivered.body).toMatchObject({ outcome: 'handed_off' });
  const member = await h.waitForStatus(m.customerId, 'canceled', 45_000);
  expect(member.transitions.map((t: { to: string }) => t.to)).toEqual(['active', 'canceled']);
});
