/**
 * One long-running workflow per member (`member-<stripe customer id>`), driven by verified Stripe events.
 * The pure state machine decides; this file only sequences inputs, timers and effects.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  membershipQuery,
  membershipStatusKey,
  stripeCustomerIdKey,
  stripeEventSignal,
  type DunningPolicy,
  type MemberEvent,
} from './messages';
import { nextDeadline } from './dunning-timers';
import { initialState, toView, type Effect, type MemberState, type Outcome } from './member-state';
import { reduce } from './reducer';
import { billingHelpSignal } from './support-messages';
import { Lane } from './lane';

/** Effect lanes (notices, Stripe, CRM) and support requests: retry transient failures without limit, with backoff. */
export const unlimitedRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

const projectionOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
} as const;
/** Histories recorded before the projection became a local activity replay with the plain activity. */
const { projectMembership: projectMembershipActivity } = proxyActivities<Activities>(projectionOptions);
// A local activity: one marker instead of an activity task round trip per state change (14 → ~8 history events
// per webhook in `npm run bench`), and a shorter ack-to-projection lag.
const { projectMembership } = proxyLocalActivities<Activities>(projectionOptions);
const { sendMemberNotice, cancelSubscriptionInStripe, syncCrmContact } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: unlimitedRetry,
});
const { loadWorkerSettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '5s' });

interface MembershipWorkflowInput {
  customerId: string;
  /** Carried across continue-as-new: state, dedupe window, deadlines. */
  state?: MemberState;
  /** Signals received while the previous run was finishing. */
  pendingEvents?: MemberEvent[];
}

/** Event types that may start a dunning cycle and so need the current policy. */
const NEEDS_POLICY = new Set<MemberEvent['type']>([
  'invoice.payment_failed',
  'invoice.payment_action_required',
  'customer.subscription.updated',
  'customer.subscription.created',
]);

/** The membership of one Stripe customer. */
export async function membershipWorkflow(input: MembershipWorkflowInput): Promise<void> {
  let state: MemberState = input.state ?? initialState(input.customerId);
  const queue: MemberEvent[] = [...(input.pendingEvents ?? [])];
  let settings = await loadWorkerSettings();

  setHandler(stripeEventSignal, (event) => {
    queue.push(event);
  });
  setHandler(membershipQuery, () => toView(state));

  // A run that starts lean (below) projects through the local activity without asking for the older patch: one
  // marker and one TemporalChangeVersion upsert fewer per new member.
  const leanStart = patched('lean-start');
  const projection = new Lane<number>('projection', async () => {
    const input = { view: toView(state), transitions: state.transitions };
    if (leanStart || patched('projection-local-activity')) await projectMembership(input);
    else await projectMembershipActivity(input);
  });
  const notices = new Lane<Extract<Effect, { type: 'notify' }>>('notify', (e) => sendMemberNotice(e));
  const stripe = new Lane<Extract<Effect, { type: 'cancelInStripe' }>>('stripe', (e) =>
    cancelSubscriptionInStripe({
      subscriptionId: e.subscriptionId,
      idempotencyKey: e.key,
      customerId: state.customerId,
    }),
  );
  const crm = new Lane<Extract<Effect, { type: 'crmSync' }>>('crm', async (e) => {
    const view = toView(state);
    const result = await syncCrmContact({ key: e.key, addTags: e.addTags, removeTags: e.removeTags, member: view });
    if (result.contactId && result.contactId !== state.crmContactId) {
      state = { ...state, crmContactId: result.contactId, version: state.version + 1 };
      projection.pushCoalesced(state.version);
    }
  });
  const lanes = [projection, notices, stripe, crm];

  let published = { status: '', email: null as string | null, appUserId: null as string | null };
  const publish = (): void => {
    if (published.status !== state.status) {
      upsertSearchAttributes([
        { key: membershipStatusKey, value: state.status },
        { key: stripeCustomerIdKey, value: state.customerId },
      ]);
    }
    if (published.email !== state.email || published.appUserId !== state.appUserId) {
      upsertMemo({ email: state.email, appUserId: state.appUserId });
    }
    published = { status: state.status, email: state.email, appUserId: state.appUserId };
  };

  const apply = (outcome: Outcome): void => {
    const versionBefore = state.version;
    state = outcome.state;
    for (const effect of outcome.effects) {
      if (effect.type === 'notify') notices.push(effect);
      else if (effect.type === 'cancelInStripe') stripe.push(effect);
      else if (settings.crmEnabled) crm.push(effect);
    }
    if (state.version !== versionBefore) {
      publish();
      projection.pushCoalesced(state.version);
      // Attributes (status, period end, …) follow the newest state even when no tag changes.
      if (settings.crmEnabled && crm.pendingCount() === 0) {
        crm.push({ type: 'crmSync', key: `${state.customerId}:v${state.version}`, addTags: [], removeTags: [] });
      }
    }
  };

  // Applied at once (it needs no worker settings); the notice goes through the notices lane like any other.
  setHandler(billingHelpSignal, ({ requestId }) => {
    const outcome = reduce(state, { kind: 'billingHelp', requestId, nowMs: Date.now() });
    if (outcome.note === 'ignored') log.info('billing help outside a dunning cycle: nothing to send', { requestId });
    apply(outcome);
  });

  const shouldContinueAsNew = (): boolean =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= settings.historyLimit;

  // A new member started by its first event publishes and projects the state that event makes, not the empty one
  // before it (that search attribute upsert and projection write were replaced within the same workflow task).
  const deferStart = leanStart && !input.state && queue.length > 0;
  if (!deferStart) {
    publish();
    if (!input.state) projection.pushCoalesced(state.version);
  }

  for (;;) {
    const deadline = nextDeadline(state);
    if (queue.length === 0) {
      const wake = (): boolean => queue.length > 0 || (shouldContinueAsNew() && lanes.every((l) => l.idle()));
      if (!deadline) await condition(wake);
      else {
        const waitMs = deadline.atMs - Date.now();
        if (waitMs > 0)
          await condition(wake, waitMs, { summary: `${deadline.timer} at ${new Date(deadline.atMs).toISOString()}` });
      }
    }

    while (queue.length > 0) {
      const event = queue.shift() as MemberEvent;
      if (NEEDS_POLICY.has(event.type) && !state.seenEventIds.includes(event.eventId)) {
        // The cycle keeps the policy it starts with; a new cycle picks up the worker's current config.
        settings = await loadWorkerSettings();
      }
      const outcome = reduce(state, { kind: 'event', event, nowMs: Date.now(), policy: settings.dunning });
      if (outcome.note === 'stale' || outcome.note === 'duplicate') {
        log.info('Stripe event did not move the state', {
          eventId: event.eventId,
          type: event.type,
          note: outcome.note,
        });
      }
      apply(outcome);
    }
    apply(reduce(state, { kind: 'tick', nowMs: Date.now() }));
    if (deferStart && published.status === '') {
      // The first event moved nothing (no apply published): the member still gets its attributes and projection row.
      publish();
      projection.pushCoalesced(state.version);
    }

    if (shouldContinueAsNew() && lanes.every((l) => l.idle()) && queue.length === 0) {
      await condition(allHandlersFinished);
      // A billing-help signal handled meanwhile may have queued a notice: it is sent by this run, not dropped.
      if (!lanes.every((l) => l.idle())) continue;
      await continueAsNew<typeof membershipWorkflow>({ customerId: state.customerId, state, pendingEvents: queue });
    }
  }
}

export type WorkerSettings = { dunning: DunningPolicy; crmEnabled: boolean; historyLimit: number };
