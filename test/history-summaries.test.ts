/**
 * What a founder reads in a member's workflow history (Temporal UI, `temporal workflow show`): each activity call
 * says what it does (`notice dunning_reminder 2/3`, `crm sync · tag payment_failed`, `stripe cancel sub_…`), and a
 * brand-new history carries no patch markers and no search-attribute or memo upserts that repeat what the start set.
 * A whole lifecycle (checkout → active → failed payment → reminders → past due → canceled in Stripe) against the
 * real Temporal dev server, the local Intercom and Stripe stand-ins. HISTORY_REPORT=1 prints the event counts.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createIntercomWorkspace } from '../activities/intercom/workspace';
import { createIntercomClient, createStripeClient } from '../lib/clients';
import { createDb, type Db } from '../lib/db';
import { createLogger } from '../lib/logger';
import { startFakeIntercom, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { memberWorkflowId, membershipStatusKey } from '../workflows/messages';
import { events, member } from './helpers/crm-sync';
import { signalWithSnapshot } from '../lib/member-handoff';
import { startHarness, testEnv, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let h: Harness;
let fake: FakeIntercom;
let stripeApi: FakeStripeApi;
let db: Db;

beforeAll(async () => {
  const token = `tok_crm_${randomBytes(16).toString('hex')}`;
  fake = await startFakeIntercom({ token });
  stripeApi = await startFakeStripeApi();
  db = createDb(testEnv().databaseUrl);
  const client = createIntercomClient({ token, baseUrl: fake.baseUrl, timeoutMs: 1500 });
  h = await startHarness({
    stripe: createStripeClient({ secretKey: 'sk_test_memberops', apiBase: stripeApi.baseUrl }),
    intercom: createIntercomWorkspace({ client, db, log: createLogger({ level: 'silent', name: 'crm' }) }),
    env: {
      INTERCOM_ACCESS_TOKEN: token,
      INTERCOM_BASE_URL: fake.baseUrl,
      STRIPE_SECRET_KEY: 'sk_test_memberops',
      STRIPE_API_BASE: stripeApi.baseUrl,
      DUNNING_GRACE_PERIOD: '2s',
      DUNNING_REMINDERS: '0s,1s,2s',
      DUNNING_CANCEL_AFTER: '3s',
      DUNNING_FINAL_ACTION: 'cancel_in_stripe',
    },
  });
});
afterAll(async () => {
  await h?.close();
  await db?.close();
  await fake?.close();
  await stripeApi?.close();
});

const decode = (payload: temporal.api.common.v1.IPayload | null | undefined): unknown =>
  payload ? defaultPayloadConverter.fromPayload(payload) : undefined;

const activitySummaries = (history: HistoryEvent[]): string[] =>
  history
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) =>
      String(
        decode(e.userMetadata?.summary) ??
          `(no summary: ${e.activityTaskScheduledEventAttributes?.activityType?.name})`,
      ),
    );

const eventTypeCounts = (history: HistoryEvent[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const e of history) {
    let name = EventType[e.eventType ?? 0].replace('EVENT_TYPE_', '');
    if (e.markerRecordedEventAttributes) name += `:${e.markerRecordedEventAttributes.markerName}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
};

describe('a member lifecycle in the workflow history', () => {
  it('names every activity call and records no marker or upsert a new history does not need', async () => {
    const m = member();
    stripeApi.seedSubscription({ id: m.subscriptionId, customer: m.customerId, status: 'past_due' });
    for (const e of [events.checkout(m), events.created(m), events.failed(m)])
      expect((await h.post(e)).status).toBe(200);
    await h.waitForStatus(m.customerId, 'canceled', 30_000);

    const handle = h.temporal.workflow.getHandle(memberWorkflowId(m.customerId));
    const expected = [
      'notice payment_failed 1/3',
      'notice dunning_reminder 2/3',
      'notice dunning_reminder 3/3',
      'notice canceled',
      `stripe cancel ${m.subscriptionId}`,
    ];
    // The last effects (the canceled notice, the CRM sync of the cancellation) follow the state: wait for them.
    const history = await waitFor(
      async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        const summaries = activitySummaries(events);
        const done = expected.every((s) => summaries.includes(s)) && summaries.some((s) => s.includes('tag cancelled'));
        const scheduled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length;
        const closed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length;
        return done && scheduled === closed && events;
      },
      { timeoutMs: 30_000, description: 'every effect of the lifecycle scheduled and completed' },
    );
    const summaries = activitySummaries(history);
    const localSummaries = history
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .map((e) => decode(e.userMetadata?.summary));
    if (process.env['HISTORY_REPORT'])
      process.stderr.write(
        `${history.length} events ${JSON.stringify(eventTypeCounts(history))}\n${summaries.join('\n')}\nlocal activities: ${localSummaries.join(', ')}\n`,
      );

    expect(summaries.filter((s) => s.startsWith('(no summary'))).toEqual([]);
    expect(summaries).toEqual(expect.arrayContaining(expected));
    expect(summaries).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^crm sync · tag member_active/),
        expect.stringMatching(/^crm sync · tag payment_failed/),
        expect.stringMatching(/^crm sync · tag cancelled/),
      ]),
    );
    // Local activities (settings, the projection) are markers, and they carry their summary as well.
    expect(localSummaries.filter((s) => !/^(load worker settings|project v\d+)$/.test(String(s)))).toEqual([]);
    expect(localSummaries).toEqual(
      expect.arrayContaining(['load worker settings', expect.stringMatching(/^project v\d+$/)]),
    );
    // The worker's settings are read when the run starts and when the payment failure starts the dunning cycle; the
    // subscription event that starts no cycle reads nothing (membership.ts `settingsOnCycleStart`).
    expect(localSummaries.filter((s) => s === 'load worker settings')).toHaveLength(2);
    // Each notice is scheduled once (summaries say which one; the keys make the sends idempotent).
    for (const s of expected) expect(summaries.filter((x) => x === s)).toHaveLength(1);
    // The start set the memo from the checkout's email and app user id: no run upserted it again.
    expect(history.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)).toEqual([]);
    expect((await handle.describe()).memo).toEqual({ email: m.email, appUserId: m.appUserId });

    // No patch markers (nor their TemporalChangeVersion upserts) in a history started by current code.
    const markers = history.map((e) => e.markerRecordedEventAttributes?.markerName).filter(Boolean);
    expect(markers).not.toContain('core_patch');
    const upserts = history
      .filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
      .map((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
    expect(upserts.flatMap((fields) => Object.keys(fields)).filter((k) => k !== membershipStatusKey.name)).toEqual([]);
    // The start set the status the checkout gives a new member (`active`, temporal-ui.ts `statusAtStart`), so the first
    // task upserts nothing; every upsert moves the status on, none repeats the previous value.
    const atStart = history[0]?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ?? {};
    expect(decode(atStart[membershipStatusKey.name])).toBe('active');
    const statuses = upserts.map((fields) => decode(fields[membershipStatusKey.name]));
    expect(statuses).toEqual(['grace_period', 'past_due', 'canceled']);
  }, 90_000);

  it('a member started by a backfill snapshot reads `member cus_… · email` too', async () => {
    const m = member();
    const now = Math.floor(Date.now() / 1000);
    await signalWithSnapshot(h.temporal, h.config.temporal.taskQueue, {
      snapshotId: 'backfill:summary',
      customerId: m.customerId,
      takenAt: now - 5,
      email: m.email,
      appUserId: m.appUserId,
      subscription: {
        id: m.subscriptionId,
        status: 'active',
        cancelAtPeriodEnd: false,
        cancelAt: null,
        currentPeriodEnd: now + 86_400,
        trialEnd: null,
        latestInvoice: null,
      },
    });
    await h.waitForStatus(m.customerId, 'active');
    const handle = h.temporal.workflow.getHandle(memberWorkflowId(m.customerId));
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`member ${m.customerId} · ${m.email}`);
    // The start set the status the snapshot gives (`active`): the task that projected it upserted none.
    const history = await waitFor(
      async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        return events.some((e) => /^project v/.test(String(decode(e.userMetadata?.summary)))) && events;
      },
      { timeoutMs: 30_000, description: 'the projection marker in the history' },
    );
    expect(history.filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)).toEqual([]);
    expect((await handle.describe()).typedSearchAttributes.get(membershipStatusKey)).toBe('active');
  });
});
