/**
 * A worker process SIGKILLed in the middle of a backfill: a new worker goes on from the cursor kept in workflow state,
 * no page is started over, and no member is handed over twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { startBackfill } from '../api/backfill';
import { BACKFILL_WORKFLOW_ID, backfillProgressQuery } from '../workflows/backfill';
import { membersWithPrefix, mismatches, noticesWithPrefix } from './helpers/backfill';
import { startHarness, testEnv, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(240_000);
const ROOT = path.join(__dirname, '..');
const KEY = 'sk_test_backfill_crash';

let h: Harness;
let fake: FakeStripeApi;
let worker: ChildProcess | undefined;

function startWorkerProcess(): ChildProcess {
  const env = testEnv();
  // `node --import tsx`, not the tsx wrapper: SIGKILL must hit the worker itself.
  return spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: h.config.temporal.taskQueue,
      STRIPE_WEBHOOK_SECRET: h.config.stripe.webhookSecret,
      STRIPE_SECRET_KEY: KEY,
      STRIPE_API_BASE: fake.baseUrl,
      // The schedule is another test's subject; this worker leaves it alone.
      RECONCILE_EVERY: 'off',
      LOG_LEVEL: process.env['TEST_WORKER_LOG_LEVEL'] ?? 'warn',
    },
    stdio: ['ignore', process.env['TEST_WORKER_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit'],
  });
}

beforeAll(async () => {
  fake = await startFakeStripeApi({ secretKey: KEY });
  h = await startHarness({ noWorker: true });
});
afterAll(async () => {
  worker?.kill('SIGKILL');
  await h?.close();
  await fake?.close();
});

it('resumes from its cursor after the worker process is killed, with no member handed over twice', async () => {
  const population = fake.seedPopulation(600, { prefix: 'cus_crash' });
  worker = startWorkerProcess();
  const handle = await startBackfill(h.temporal, {
    taskQueue: h.config.temporal.taskQueue,
    requestsPerSecond: 4,
    pageSize: 50,
    pagesPerRun: 4,
  });
  await waitFor(async () => (await handle.query(backfillProgressQuery)).pages >= 3, {
    timeoutMs: 120_000,
    description: 'three backfill pages',
  });
  const killed = worker;
  killed.kill('SIGKILL');
  await waitFor(() => killed.exitCode !== null || killed.signalCode !== null, { description: 'the worker to die' });

  worker = startWorkerProcess();
  const progress = await h.temporal.workflow.getHandle(BACKFILL_WORKFLOW_ID).result();

  expect(progress).toMatchObject({ done: true, customers: 600, created: 600, pages: 12 });
  const lists = fake.calls.filter((c) => c.path === '/v1/customers');
  // Only the first page was read without a cursor; at most the page in flight when the worker died was read again.
  expect(lists.filter((c) => !c.query.includes('starting_after'))).toHaveLength(1);
  expect(lists.length).toBeLessThanOrEqual(13);
  const members = await waitFor(
    async () => {
      const m = await membersWithPrefix(h.db, 'cus_crash');
      return mismatches(m, population).length === 0 ? m : undefined;
    },
    { timeoutMs: 120_000, description: '600 members projected with Stripe’s states' },
  );
  expect(members.size).toBe(600);
  // A snapshot handed over twice would be a no-op; a duplicate member would show as a second transition.
  const transitions = await h.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM membership_transitions WHERE customer_id LIKE 'cus_crash%' GROUP BY customer_id`,
  );
  expect(transitions.every((t) => t.n === '1')).toBe(true);
  expect(await noticesWithPrefix(h.db, 'cus_crash')).toBe(0);
});
