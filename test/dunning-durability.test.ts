/**
 * Dunning deadlines survive a killed worker process and a continue-as-new: they are re-armed from the
 * stored deadlines, never restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { memberWorkflowId } from '../workflows/messages';
import { startHarness, testEnv, type Harness } from './helpers/harness';
import { newMember, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..');

async function activeMember(h: Harness): Promise<MemberIds> {
  const m = newMember();
  expect((await h.post(stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }))).status).toBe(200);
  await h.waitForStatus(m.customerId, 'active', 60_000);
  return m;
}

describe('a worker process killed in the middle of a dunning cycle', () => {
  // The cancel deadline leaves room for the restart (process start, bundling, the dead worker's sticky queue timing out).
  const policy = { DUNNING_GRACE_PERIOD: '8s', DUNNING_REMINDERS: '0s', DUNNING_CANCEL_AFTER: '35s' };
  let h: Harness;
  let worker: ChildProcess | undefined;

  function startWorkerProcess(overrides: Record<string, string> = {}): ChildProcess {
    const env = testEnv();
    // `node --import tsx`, not the tsx wrapper: SIGKILL must hit the worker itself, not a parent that survives it.
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...policy,
        // The SDK's 10s: how long a task for the dead worker's cache waits before the new worker may take it.
        WORKER_STICKY_QUEUE_TIMEOUT: '10s',
        ...overrides,
        DATABASE_URL: env.databaseUrl,
        TEMPORAL_ADDRESS: env.temporalAddress,
        TEMPORAL_TASK_QUEUE: h.config.temporal.taskQueue,
        STRIPE_WEBHOOK_SECRET: h.config.stripe.webhookSecret,
        LOG_LEVEL: process.env['TEST_WORKER_LOG_LEVEL'] ?? 'warn',
      },
      stdio: ['ignore', process.env['TEST_WORKER_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit'],
    });
    return child;
  }

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, env: policy });
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await h?.close();
  });

  it('is picked up by a new worker with the deadlines intact', async () => {
    worker = startWorkerProcess();
    const m = await activeMember(h);
    expect((await h.post(stripeEvent('invoice.payment_failed', m))).status).toBe(200);
    const grace = await h.waitForStatus(m.customerId, 'grace_period', 30_000);
    const graceEndsAt = Date.parse(grace.dunning.graceEndsAt);
    const cancelsAt = Date.parse(grace.dunning.cancelsAt);

    const killed = worker;
    killed.kill('SIGKILL');
    await waitFor(() => killed.exitCode !== null || killed.signalCode !== null, { description: 'the worker to die' });
    // The grace deadline passes while no worker runs.
    await waitFor(() => Date.now() > graceEndsAt + 500, { timeoutMs: 20_000, description: 'the grace deadline to pass' });
    expect((await h.get(`/members/${m.customerId}`)).body.status).toBe('grace_period');

    worker = startWorkerProcess();
    const pastDue = await h.waitForStatus(m.customerId, 'past_due', 60_000);
    expect(pastDue.dunning.graceEndsAt).toBe(grace.dunning.graceEndsAt);
    expect(pastDue.dunning.cancelsAt).toBe(grace.dunning.cancelsAt);
    const canceled = await h.waitForStatus(m.customerId, 'canceled', 60_000);
    const at = (to: string) => Date.parse(canceled.transitions.find((t: { to: string }) => t.to === to).at);
    expect(at('past_due')).toBeGreaterThanOrEqual(graceEndsAt);
    expect(at('canceled')).toBeGreaterThanOrEqual(cancelsAt);
    // Not restarted: the timers fired at the original deadlines, not a full period after the new worker started.
    expect(at('past_due')).toBeLessThan(graceEndsAt + 20_000);
    expect(at('canceled')).toBeLessThan(cancelsAt + 5_000);
  });

  it("starts a later dunning cycle with the policy of the worker running then, not the one of the run's start", async () => {
    worker?.kill('SIGKILL');
    worker = startWorkerProcess();
    const m = await activeMember(h);
    // The member's run read the first worker's settings when it started; the next worker has another grace period.
    const first = worker;
    first.kill('SIGKILL');
    await waitFor(() => first.exitCode !== null || first.signalCode !== null, { description: 'the worker to die' });
    worker = startWorkerProcess({ DUNNING_GRACE_PERIOD: '21s' });
    expect((await h.post(stripeEvent('invoice.payment_failed', m))).status).toBe(200);
    const grace = await h.waitForStatus(m.customerId, 'grace_period', 60_000);
    expect(Date.parse(grace.dunning.graceEndsAt) - Date.parse(grace.dunning.cycleStartedAt)).toBe(21_000);
  });
});

describe('continue-as-new in the middle of a dunning cycle', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { DUNNING_GRACE_PERIOD: '8s', DUNNING_REMINDERS: '0s,5s', DUNNING_CANCEL_AFTER: '30s', MEMBER_HISTORY_LIMIT: '40' },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('keeps the pending deadlines exactly', async () => {
    const m = await activeMember(h);
    expect((await h.post(stripeEvent('invoice.payment_failed', m))).status).toBe(200);
    const grace = await h.waitForStatus(m.customerId, 'grace_period');
    const handle = h.temporal.workflow.getHandle(memberWorkflowId(m.customerId));
    const firstRun = (await handle.describe()).runId;

    // Enough signals to pass the history limit: partial refunds change nothing but grow the history.
    for (let i = 0; i < 12; i++) {
      const e = stripeEvent('charge.refunded', m, { object: { amount_refunded: 10 + i, refunded: false } });
      expect((await h.post(e)).status).toBe(200);
    }
    await waitFor(async () => ((await handle.describe()).runId !== firstRun ? true : undefined), {
      timeoutMs: 20_000,
      description: 'a continue-as-new',
    });
    const carried = await waitFor(async () => {
      const r = await h.get(`/members/${m.customerId}?consistency=strong`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(carried.status).toBe('grace_period');
    expect(carried.dunning).toMatchObject({
      cycleStartedAt: grace.dunning.cycleStartedAt,
      graceEndsAt: grace.dunning.graceEndsAt,
      cancelsAt: grace.dunning.cancelsAt,
    });
    const pastDue = await h.waitForStatus(m.customerId, 'past_due', 30_000);
    const at = Date.parse(pastDue.transitions.find((t: { to: string }) => t.to === 'past_due').at);
    expect(at).toBeGreaterThanOrEqual(Date.parse(grace.dunning.graceEndsAt));
    expect(at).toBeLessThan(Date.parse(grace.dunning.graceEndsAt) + 5_000);
    // One reminder at 0s and one at 5s: each exactly once across the runs.
    await waitFor(async () => {
      const rows = await h.db.query(`SELECT 1 FROM member_notices WHERE customer_id = $1 AND status = 'sent'`, [m.customerId]);
      return rows.length === 2;
    });
    const duplicates = await h.db.query(`SELECT key FROM member_notices WHERE customer_id = $1 GROUP BY key HAVING count(*) > 1`, [m.customerId]);
    expect(duplicates).toEqual([]);
  });
});
