/**
 * No member stuck behind a failing call, and no bug swallowed: a member effect retries until EFFECT_RETRY_DEADLINE,
 * then is recorded as failed with one founder alert and its lane moves on (a long Intercom outage compressed to
 * seconds); a TypeError in workflow code fails the workflow task instead of dropping the effect.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createIntercomWorkspace } from '../activities/intercom/workspace';
import { createIntercomClient } from '../lib/clients';
import { createDb, type Db } from '../lib/db';
import { createLogger } from '../lib/logger';
import { startFakeIntercom, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { newMember, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { memberWorkflowId } from '../workflows/messages';
import { startHarness, testEnv, workflowBundle, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(120_000);

const log = createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent', name: 'effect-deadline-test' });

function checkout(m: MemberIds & { appUserId: string; email: string }) {
  return stripeEvent('checkout.session.completed', m, {
    object: { client_reference_id: m.appUserId, payment_status: 'paid', customer_details: { email: m.email } },
  });
}

function member() {
  const ids = newMember();
  return { ...ids, appUserId: `app-${ids.customerId.slice(5)}`, email: `${ids.customerId.toLowerCase()}@members.test` };
}

describe('an Intercom outage longer than the effect deadline', () => {
  let fake: FakeIntercom;
  let h: Harness;
  let workspaceDb: Db;
  beforeAll(async () => {
    workspaceDb = createDb(testEnv().databaseUrl);
    const token = `tok_${randomBytes(12).toString('hex')}`;
    fake = await startFakeIntercom({ token });
    h = await startHarness({
      env: {
        // Six hours of outage against a day's deadline, compressed: the deadline is 2 s here.
        EFFECT_RETRY_DEADLINE: '2s',
        DUNNING_GRACE_PERIOD: '1 hour',
        DUNNING_REMINDERS: '0s',
        DUNNING_CANCEL_AFTER: '2 hours',
      },
      // Member messages through Intercom; CRM sync off (no INTERCOM_ACCESS_TOKEN), so notices are the only effect.
      intercom: createIntercomWorkspace({
        client: createIntercomClient({ token, baseUrl: fake.baseUrl, timeoutMs: 1000 }),
        db: workspaceDb,
        log,
      }),
    });
  });
  afterAll(async () => {
    await h?.close();
    await fake?.close();
    await workspaceDb?.close();
  });

  it('records the stuck notice as failed with one alert, and still delivers the later recovery notice', async () => {
    const m = member();
    expect((await h.post(checkout(m))).status).toBe(200);
    await h.waitForStatus(m.customerId, 'active');

    await fake.down('unavailable');
    expect((await h.post(stripeEvent('invoice.payment_failed', m, { object: { customer_email: m.email } }))).status).toBe(200);
    await h.waitForStatus(m.customerId, 'grace_period');
    const failure = await waitFor(
      async () => {
        const [row] = await h.db.query<{ lane: string; reason: string; key: string }>(
          'SELECT lane, reason, key FROM effect_failures WHERE customer_id = $1',
          [m.customerId],
        );
        return row;
      },
      { timeoutMs: 30_000, description: 'the stuck notice to be recorded as failed' },
    );
    expect(failure).toMatchObject({ lane: 'notify', reason: expect.stringMatching(/^gave up \(TIMEOUT\): .*503/) });
    const notices = await h.db.query<{ key: string; status: string }>(
      'SELECT key, status FROM member_notices WHERE customer_id = $1',
      [m.customerId],
    );
    expect(notices).toEqual([{ key: failure.key, status: 'failed' }]);

    // The outage ends; the member pays: the later notice goes out although the earlier one never did.
    await fake.up();
    expect((await h.post(stripeEvent('invoice.paid', m, { object: { customer_email: m.email } }))).status).toBe(200);
    await h.waitForStatus(m.customerId, 'active');
    const recovered = await waitFor(
      async () => {
        const rows = await h.db.query<{ kind: string; status: string }>(
          `SELECT kind, status FROM member_notices WHERE customer_id = $1 AND kind = 'payment_recovered'`,
          [m.customerId],
        );
        return rows[0]?.status === 'sent' ? rows[0] : undefined;
      },
      { timeoutMs: 30_000, description: 'the payment recovered notice to be sent' },
    );
    expect(recovered).toEqual({ kind: 'payment_recovered', status: 'sent' });
    const contact = fake.contactByExternalId(m.appUserId);
    expect(contact && fake.messagesTo(contact.id)).toHaveLength(1);

    const alerts = await h.db.query<{ kind: string }>('SELECT kind FROM alerts WHERE customer_id = $1', [m.customerId]);
    expect(alerts).toEqual([{ kind: 'effect_failed' }]);
    const metrics = await h.fetch('/metrics').then((r) => r.text());
    expect(metrics).toMatch(/memberops_effect_failures_total\{lane="notify"\} [1-9]/);
 
    // The path of an effect that gave up is deterministic; `UPDATE_HISTORIES=1` keeps it in test/histories, which
    // test/replay.test.ts replays against every later version of the workflow.
    const history = await h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
    if (process.env['UPDATE_HISTORIES'] === '1') {
      writeFileSync(
        // effect-gave-up.effect-deadline.json (with its patch marker) stays: it guards executions started earlier.
        path.join(__dirname, 'histories', 'effect-gave-up.lean.json'),
        JSON.stringify(JSON.parse(historyToJSON(history)), null, 1),
      );
    }
  });
});

describe('a programming error in an effect handler', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ noWorker: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('fails the workflow task (retried after the fix) instead of dropping the effect', async () => {
    const connection = await NativeConnection.connect({ address: h.config.temporal.address as string });
    const real = createActivities({ db: h.db, config: h.config, log });
    // A bad release: CRM sync switched on, and an activity that answers nothing, so the CRM lane's workflow code
    // reads a property of undefined (a TypeError in workflow code, not an activity failure).
    const buggy = await Worker.create({
      connection,
      namespace: h.config.temporal.namespace,
      taskQueue: h.config.temporal.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...real,
        loadWorkerSettings: async () => ({ ...(await real.loadWorkerSettings()), crmEnabled: true }),
        syncCrmContact: async () => undefined as unknown as Awaited<ReturnType<typeof real.syncCrmContact>>,
      },
    });
    const run = buggy.run();
    const m = member();
    try {
      expect((await h.post(checkout(m))).status).toBe(200);
      const failed = await waitFor(
        async () => {
          const history = await h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).fetchHistory();
          return history.events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
        },
        { timeoutMs: 30_000, description: 'a workflow task failure' },
      );
      expect(failed?.failure?.message).toMatch(/Cannot read properties of undefined/);
    } finally {
      buggy.shutdown();
      await run;
      await connection.close();
    }
    // The fixed release picks the workflow up where the bug stopped it.
    await h.startWorker();
    await h.waitForStatus(m.customerId, 'active', 30_000);
  });
});

