/**
 * Determinism: recorded member workflow histories must replay against the current workflow code.
 * `UPDATE_HISTORIES=1 npx jest test/replay.test.ts` re-records test/histories/ (do it only on purpose,
 * when a change is meant to be incompatible and is versioned).
 */
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { memberWorkflowId } from '../workflows/messages';
import { accessOverrideUpdate, addNoteUpdate } from '../workflows/operator-messages';
import { startHarness, workflowBundle, type Harness } from './helpers/harness';
import { newMember, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { waitFor } from './helpers/wait-for';
import { signalWithSnapshot } from '../lib/member-handoff';

const HISTORIES = path.join(__dirname, 'histories');
/** Tag of the workflow code generation a new recording belongs to. */
// 'local-projection' (patch markers, upserts of unchanged attributes), 'lean' (a memo upsert after the first event) and
// 'start-memo' (a settings read before every event that might start a dunning cycle) and 'cycle-settings' (a start that
// set the status `none`, so the first task upserted the first event's status) files stay: they guard executions started
// earlier.
const RECORDING = 'start-status';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    env: {
      DUNNING_GRACE_PERIOD: '2s',
      DUNNING_REMINDERS: '0s,1s',
      DUNNING_CANCEL_AFTER: '4s',
      MEMBER_HISTORY_LIMIT: '2000',
    },
  });
});
afterAll(async () => {
  await h?.close();
});

async function historyOf(m: MemberIds) {
  return h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).fetchHistory();
}

async function recordScenario(name: string, drive: (m: MemberIds) => Promise<void>) {
  const m = newMember();
  await drive(m);
  const history = await historyOf(m);
  // UPDATE_HISTORIES=1 re-records every scenario; UPDATE_HISTORIES=<name> only that one.
  if (process.env['UPDATE_HISTORIES'] === '1' || process.env['UPDATE_HISTORIES'] === name) {
    // New recordings sit next to the older ones, which keep guarding the executions started by earlier code.
    writeFileSync(
      path.join(HISTORIES, `${name}.${RECORDING}.json`),
      JSON.stringify(JSON.parse(historyToJSON(history)), null, 1),
    );
  }
  return history;
}

const post = async (e: ReturnType<typeof stripeEvent>) => expect((await h.post(e)).status).toBe(200);

describe('workflow determinism', () => {
  it('replays a fresh signup-and-cancel history against the current code', async () => {
    const history = await recordScenario('signup-cancel', async (m) => {
      await post(
        stripeEvent('checkout.session.completed', m, {
          object: { client_reference_id: 'replay-user', payment_status: 'paid' },
        }),
      );
      await post(stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }));
      await h.waitForStatus(m.customerId, 'active');
      await post(stripeEvent('charge.refunded', m, { object: { amount_refunded: 100, refunded: false } }));
      await post(stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } }));
      await h.waitForStatus(m.customerId, 'canceled');
    });
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
  });

  it('replays a full dunning cycle (timers, reminders, cancellation) against the current code', async () => {
    const history = await recordScenario('dunning-cycle', async (m) => {
      await post(stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }));
      await h.waitForStatus(m.customerId, 'active');
      await post(stripeEvent('invoice.payment_failed', m));
      await h.waitForStatus(m.customerId, 'past_due');
      await h.waitForStatus(m.customerId, 'canceled');
      await waitFor(async () => {
        const rows = await h.db.query(
          `SELECT 1 FROM member_notices WHERE customer_id = $1 AND kind = 'canceled' AND status = 'sent'`,
          [m.customerId],
        );
        return rows.length === 1;
      });
    });
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
  });

  it('replays a backfill snapshot (past due from Stripe’s date) followed by webhooks against the current code', async () => {
    const history = await recordScenario('snapshot', async (m) => {
      const now = Math.floor(Date.now() / 1000);
      await signalWithSnapshot(h.temporal, h.config.temporal.taskQueue, {
        snapshotId: 'backfill:replay',
        customerId: m.customerId,
        takenAt: now - 5,
        email: 'replay@example.com',
        appUserId: 'replay-user',
        subscription: {
          id: m.subscriptionId,
          status: 'past_due',
          cancelAtPeriodEnd: false,
          cancelAt: null,
          currentPeriodEnd: now + 86_400,
          trialEnd: null,
          latestInvoice: { id: 'in_replay', hostedInvoiceUrl: null, finalizedAt: now - 1 },
        },
      });
      await h.waitForStatus(m.customerId, 'grace_period');
      // An event older than the snapshot is stale; a newer payment recovers the member.
      await post(
        stripeEvent('customer.subscription.updated', m, { created: now - 60, object: { status: 'canceled' } }),
      );
      await post(stripeEvent('invoice.paid', m));
      await h.waitForStatus(m.customerId, 'active');
    });
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
  });

  it('replays a history with operator actions (an access override that ends by its timer, a note)', async () => {
    const history = await recordScenario('operator-actions', async (m) => {
      await post(stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }));
      await h.waitForStatus(m.customerId, 'active');
      const handle = h.temporal.workflow.getHandle(memberWorkflowId(m.customerId));
      const by = 'founder@replay.test';
      await handle.executeUpdate(accessOverrideUpdate, {
        args: [{ actionId: 'replay-revoke', by, mode: 'revoke', forMs: 1500, reason: 'replay' }],
      });
      await waitFor(async () => (await h.get(`/members/${m.customerId}/access`)).body.allowed === false, {
        description: 'the override to deny access',
      });
      await waitFor(async () => (await h.get(`/members/${m.customerId}/access`)).body.allowed === true, {
        description: 'the override to end by its timer',
      });
      await handle.executeUpdate(addNoteUpdate, { args: [{ actionId: 'replay-note', by, text: 'called the member' }] });
    });
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
  });

  it('replays every recorded history in test/histories', async () => {
    const files = existsSync(HISTORIES) ? readdirSync(HISTORIES).filter((f) => f.endsWith('.json')) : [];
    expect(files.length).toBeGreaterThanOrEqual(5);
    const histories = files.map((f) => ({
      workflowId: f,
      history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, f), 'utf8'))),
    }));
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    for await (const r of results) {
      expect({ file: r.workflowId, error: r.error?.message }).toEqual({ file: r.workflowId, error: undefined });
    }
  });
});
