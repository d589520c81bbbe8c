/**
 * Every verified event reaches its member even when Stripe never redelivers it: memberops re-drives events whose
 * hand-off failed; a hand-off Temporal refuses for good is set aside (200), told apart from Temporal down (503).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOrBuildTemporalCli } from '../tools/testkit/temporal-cli';
import { TemporalDevServer } from '../tools/testkit/temporal-dev-server';
import { DependencyUnavailableError } from '../lib/dependency-errors';
import { createDb, type Db } from '../lib/db';
import { startHarness, testEnv, type Harness } from './helpers/harness';
import { newMember, stripeEvent } from '../tools/testkit/stripe-events';
import { supportWorkflowId } from '../workflows/support-messages';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(120_000);

async function outcomeOf(h: Harness, eventId: string): Promise<string | undefined> {
  const [row] = await h.db.query<{ outcome: string }>('SELECT outcome FROM stripe_events WHERE id = $1', [eventId]);
  return row?.outcome;
}

describe('with its own Temporal server', () => {
  let server: TemporalDevServer;
  let h: Harness;
  beforeAll(async () => {
    const cliPath =
      process.env['MEMBEROPS_TEST_TEMPORAL_CLI'] ?? (await findOrBuildTemporalCli({ envPath: process.env['TEMPORAL_CLI_PATH'] }));
    if (!cliPath) throw new Error('no Temporal CLI');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'memberops-redrive-'));
    server = await TemporalDevServer.start({ cliPath, headless: true, dbFilename: path.join(dir, 'temporal.db') });
    h = await startHarness({ temporalAddress: server.address, env: { STRIPE_REDRIVE_EVERY: '500ms' } });
  });
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  it('hands off an event that failed while Temporal was down, although Stripe never redelivers it', async () => {
    const m = newMember();
    expect((await h.post(stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }))).status).toBe(200);
    await h.waitForStatus(m.customerId, 'active');

    await server.stop();
    const deletion = stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } });
    expect((await h.post(deletion)).status).toBe(503);
    expect(await outcomeOf(h, deletion.id)).toBe('failed');

    await server.restart();
    // No redelivery: the sweep alone brings the event to the member.
    const member = await h.waitForStatus(m.customerId, 'canceled', 60_000);
    expect(member.transitions.map((t: { to: string }) => t.to)).toEqual(['active', 'canceled']);
    await waitFor(async () => ((await outcomeOf(h, deletion.id)) !== 'failed' ? true : undefined), {
      description: 'the re-driven event to leave failed',
    });
    const metrics = await h.fetch('/metrics').then((r) => r.text());
    expect(metrics).toMatch(/memberops_stripe_events_redriven_total\{outcome="handed_off"\} [1-9]/);
  });
  it('picks up a support request left half handed-off while Temporal was down', async () => {
    await server.stop();
    const res = await h.fetch('/support/requests', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.0.1' },
      body: JSON.stringify({ email: `drain-${Date.now()}@example.test`, body: 'Can you send me my receipt for March?' }),
    });
    expect(res.status).toBe(503);
    const [row] = await h.db.query<{ id: string; handed_off_at: Date | null }>(
      'SELECT id, handed_off_at FROM support_requests ORDER BY created_at DESC LIMIT 1',
    );
    expect(row?.handed_off_at).toBeNull();

    await server.restart();
    await waitFor(
      async () => {
        const [r] = await h.db.query<{ handed_off_at: Date | null }>(
          'SELECT handed_off_at FROM support_requests WHERE id = $1',
          [row?.id],
        );
        return r?.handed_off_at ? true : undefined;
      },
      { timeoutMs: 60_000, description: 'the sweep to start the support workflow' },
    );
    const described = await h.temporal.workflow.getHandle(supportWorkflowId(row?.id as string)).describe();
    expect(described.type).toBe('supportRequestWorkflow');
  });
});

describe('a hand-off Temporal refuses', () => {
  let h: Harness;
  beforeAll(async () => {
    // Temporal refuses a task queue name over its length limit with INVALID_ARGUMENT, whatever the retry.
    h = await startHarness({ noWorker: true, env: { TEMPORAL_TASK_QUEUE: `q${'x'.repeat(1100)}` } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is set aside with its reason and answered 200, not retried by Stripe', async () => {
    const e = stripeEvent('customer.subscription.created', newMember(), { object: { status: 'active' } });
    const r = await h.post(e);
    expect(r).toEqual({
      status: 200,
      body: expect.objectContaining({ outcome: 'set_aside', reason: expect.stringContaining('refused') }),
    });
    expect(await outcomeOf(h, e.id)).toBe('set_aside');
    const metrics = await h.fetch('/metrics').then((res) => res.text());
    expect(metrics).toMatch(/memberops_stripe_events_set_aside_total\{reason="handoff_refused"\} [1-9]/);
  });
});

describe('PostgreSQL blinking between the hand-off and its bookkeeping write', () => {
  let h: Harness;
  let apiDb: Db;
  let blinks = 0;
  beforeAll(async () => {
    apiDb = createDb(testEnv().databaseUrl);
    // The API's database loses the write that records a hand-off, the way a connection dropped at that moment does.
    const blinking: Db = Object.create(apiDb) as Db;
    blinking.query = (text, params) => {
      if (blinks > 0 && text.includes("outcome = 'handed_off'")) {
        blinks -= 1;
        return Promise.reject(new DependencyUnavailableError('postgres', 'PostgreSQL unavailable: connection terminated'));
      }
      return apiDb.query(text, params);
    };
    h = await startHarness({ env: { STRIPE_REDRIVE_EVERY: '300ms' }, appDeps: { db: blinking } });
  });
  afterAll(async () => {
    await h?.close();
    await apiDb?.close();
  });

  it('ends with the event handed off, applied once', async () => {
    const m = newMember();
    const e = stripeEvent('customer.subscription.created', m, { object: { status: 'active' } });
    blinks = 1;
    expect(await h.post(e)).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'handed_off' }) });
    expect(blinks).toBe(0);
    await waitFor(async () => ((await outcomeOf(h, e.id)) === 'handed_off' ? true : undefined), {
      description: 'the lost bookkeeping write to land',
    });
    const member = await h.waitForStatus(m.customerId, 'active');
    expect(member.transitions).toHaveLength(1);
  });
});
