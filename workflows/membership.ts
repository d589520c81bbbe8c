/**
 * One long-running workflow per member (`member-<stripe customer id>`), driven by verified Stripe events.
 * The pure state machine decides; this file only sequences inputs, timers and effects.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
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
import { applySnapshot, snapshotNeedsPolicy } from './snapshot';
import { stripeSnapshotSignal, type MemberSnapshot } from './snapshot-messages';
import { earliestDeadline, expireOverride, installOperatorActions } from './operator-actions';
import { crmSummary, currentDetails, memberMemo, noticeSummary } from './temporal-ui';
import { EFFECT_ATTEMPT_TIMEOUT_MS, effectActivities, recordFailedEffect } from './effects';
import { Lane, throwLaneBugs } from './lane';

/** Support requests: retry transient failures without limit, with backoff (member effects have a deadline: effects.ts). */
export const unlimitedRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

const projectionOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
} as const;
/**
 * A local activity retries inside one workflow task (heartbeating it, queries waiting): it gives up after a while,
 * and the projection lane waits on a durable timer before trying again (PostgreSQL down for hours), so the workflow
 * stays responsive and can continue as new between attempts.
 */
// (An attempt count, not scheduleToCloseTimeout: the worker kept retrying a local activity past the latter.)
const localProjectionOptions = {
  ...projectionOptions,
  retry: { ...projectionOptions.retry, maximumAttempts: 5 },
} as const;
/** How long continue-as-new waits for an effect in flight before carrying it. */
const CARRY_WAIT_MS = 10_000;
/** The projection lane's pause after a local activity gave up: 5 s doubling up to a minute. */
const projectionPauseMs = (failures: number): number => Math.min(60_000, 5_000 * 2 ** Math.min(failures - 1, 4));
/** Histories recorded before the projection became a local activity replay with the plain activity. */
const { projectMembership: projectMembershipActivity } = proxyActivities<Activities>(projectionOptions);
// A local activity: one marker instead of an activity task round trip per state change (14 → ~8 history events
// per webhook in `npm run bench`), and a shorter ack-to-projection lag.
const { projectMembership } = proxyLocalActivities<Activities>(localProjectionOptions);
const { loadWorkerSettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '5s' });

interface MembershipWorkflowInput {
  customerId: string;
  /** Carried across continue-as-new: state, dedupe window, deadlines. */
  state?: MemberState;
  /** Signals received while the previous run was finishing. */
  pendingEvents?: MemberEvent[];
  /** Snapshots received while the previous run was finishing. */
  pendingSnapshots?: MemberSnapshot[];
  /**
   * Set by every start of current code (the API's hand-offs and continue-as-new): the run records no patch markers
   * (it takes the patched paths directly) and no search-attribute upserts the start already made. Runs started
   * without it (recorded histories, executions started by earlier code) keep the patched() calls and upserts they
   * recorded, so they replay unchanged.
   */
  lean?: boolean;
  /** Effects the previous run had not finished (a lane stuck retrying, e.g. during a PostgreSQL outage). */
  pendingEffects?: CarriedEffects;
  /**
   * Set by every start of current code: the worker's settings are read when the run starts and again only when an
   * event starts a dunning cycle (the cycle takes the policy current then), not before every event that might start
   * one (a renewal's `customer.subscription.updated` records no settings marker). Runs started without it read them as
   * they recorded.
   */
  settingsOnCycleStart?: boolean;
}

type NoticeEffect = Extract<Effect, { type: 'notify' }>;
type StripeEffect = Extract<Effect, { type: 'cancelInStripe' }>;
type CrmEffect = Extract<Effect, { type: 'crmSync' }>;

/**
 * The lanes' unfinished items across continue-as-new, in order, the one in flight first. The projection coalesces to
 * "project the latest version". An attempt in flight is abandoned by the old run: effects are idempotent by key
 * (notices claim their key, CRM tag operations are recorded per key, Stripe takes the idempotency key), and the new run
 * holds a lane whose attempt was in flight until that attempt's start-to-close limit has passed, so the two never
 * overlap.
 */
export interface CarriedEffects {
  projection: boolean;
  notify: NoticeEffect[];
  stripe: StripeEffect[];
  crm: CrmEffect[];
  /** Lanes whose first item had started. */
  inFlight: Array<'notify' | 'stripe' | 'crm'>;
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
  const lean = input.lean === true;
  const queue: MemberEvent[] = [...(input.pendingEvents ?? [])];
  let settings = await loadWorkerSettings.executeWithOptions({ summary: 'load worker settings' }, []);
  // Runs started before this continue as new only once every lane is idle (their histories replay unchanged); later
  // runs continue as new when the history is long even with a lane stuck, carrying its items (CarriedEffects).
  const carryEffects = lean || patched('continue-as-new-carries-effects');

  setHandler(stripeEventSignal, (event) => {
    queue.push(event);
  });
  setHandler(membershipQuery, () => toView(state));
  const snapshots: MemberSnapshot[] = [...(input.pendingSnapshots ?? [])];
  setHandler(stripeSnapshotSignal, (snapshot) => {
    snapshots.push(snapshot);
  });

  let projecting = false;
  const projection = new Lane<number>('projection', async () => {
    for (let failures = 1; ; failures++) {
      // The newest state on every attempt: a state that moved during the outage is projected once, as it is now.
      const input = { view: toView(state), transitions: state.transitions };
      projecting = true;
      try {
        if (lean || patched('projection-local-activity'))
          await projectMembership.executeWithOptions({ summary: `project v${state.version}` }, [input]);
        else await projectMembershipActivity(input);
        return;
      } catch (err) {
        // A local activity that gave up surfaces as its ApplicationFailure (a regular one as an ActivityFailure).
        if (!(err instanceof ActivityFailure || err instanceof ApplicationFailure)) throw err;
        log.warn('projection failed; retrying after a pause', { error: err.cause?.message ?? err.message });
      } finally {
        projecting = false;
      }
      await sleep(projectionPauseMs(failures));
    }
  });
  // Effects retry until the worker's deadline, then are recorded as failed (one alert) and their lane moves on.
  const effects = () => effectActivities(settings.effectDeadlineMs);
  const gaveUp = (lane: string) => (e: { key: string }, failure: ActivityFailure) =>
    recordFailedEffect(state.customerId, lane, e.key, failure, lean);
  const notices = new Lane<NoticeEffect>(
    'notify',
    (e) =>
      effects().sendMemberNotice.executeWithOptions(
        { summary: noticeSummary(e.kind, e.data.reminderNumber, state.dunning?.policy.remindersMs.length) },
        [e],
      ),
    gaveUp('notify'),
  );
  const stripe = new Lane<StripeEffect>(
    'stripe',
    (e) =>
      effects().cancelSubscriptionInStripe.executeWithOptions({ summary: `stripe cancel ${e.subscriptionId}` }, [
        { subscriptionId: e.subscriptionId, idempotencyKey: e.key, customerId: state.customerId },
      ]),
    gaveUp('stripe'),
  );
  const crm = new Lane<CrmEffect>(
    'crm',
    async (e) => {
      const view = toView(state);
      const result = await effects().syncCrmContact.executeWithOptions(
        { summary: crmSummary(e.addTags, e.removeTags) },
        [{ key: e.key, addTags: e.addTags, removeTags: e.removeTags, member: view }],
      );
      if (result.contactId && result.contactId !== state.crmContactId) {
        state = { ...state, crmContactId: result.contactId, version: state.version + 1 };
        projection.pushCoalesced(state.version);
      }
    },
    gaveUp('crm'),
  );
  const lanes = [projection, notices, stripe, crm];

  // A lean first run starts with the search attributes its start set (the customer id, and the status its first event
  // gives an empty state, temporal-ui.ts `statusAtStart`, or `none` from starts by earlier code), and a first run with
  // the memo its start set (`memoAtStart`; none for starts by earlier code): upserted on change only.
  let published = {
    status: lean && !input.state ? (workflowInfo().typedSearchAttributes.get(membershipStatusKey) ?? 'none') : '',
    ...memberMemo(input.state ? undefined : workflowInfo().memo),
  };
  const publish = (): void => {
    if (published.status !== state.status) {
      upsertSearchAttributes(
        lean && published.status !== ''
          ? // The customer id never changes: set by the start or by this run's first upsert.
            [{ key: membershipStatusKey, value: state.status }]
          : [
              { key: membershipStatusKey, value: state.status },
              { key: stripeCustomerIdKey, value: state.customerId },
            ],
      );
    }
    if (published.email !== state.email || published.appUserId !== state.appUserId) {
      upsertMemo({ email: state.email, appUserId: state.appUserId });
    }
    published = { status: state.status, email: state.email, appUserId: state.appUserId };
    // The Temporal UI's "current details": metadata, not a command, so histories replay unchanged.
    setCurrentDetails(currentDetails(state));
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
  installOperatorActions({
    state: () => state,
    apply,
    maxGraceExtensionMs: () => settings.operatorMaxGraceExtensionMs,
    crmEnabled: () => settings.crmEnabled,
  });

  /** Whether a step's outcome starts a dunning cycle, the only use of the dunning policy (startDunning). */
  const startsCycle = (outcome: Outcome): boolean => outcome.state.dunningCycles > state.dunningCycles;

  const shouldContinueAsNew = (): boolean =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= settings.historyLimit;
  const readyToContinueAsNew = (): boolean => carryEffects || lanes.every((l) => l.idle());

  // A new member started by its first event publishes and projects the state that event makes, not the empty one
  // before it (that search attribute upsert and projection write were replaced within the same workflow task).
  let started = !(lean && !input.state && (queue.length > 0 || snapshots.length > 0));
  const startVersion = state.version;
  if (started) {
    publish();
    if (!input.state) projection.pushCoalesced(state.version);
  }
  const carried = input.pendingEffects;
  if (carried) {
    if (carried.inFlight.length > 0) {
      const gate = sleep(EFFECT_ATTEMPT_TIMEOUT_MS + 5_000);
      for (const name of carried.inFlight) ({ notify: notices, stripe, crm })[name].holdUntil(gate);
    }
    for (const e of carried.notify) notices.push(e);
    for (const e of carried.stripe) stripe.push(e);
    for (const e of carried.crm) crm.push(e);
    if (carried.projection) projection.pushCoalesced(state.version);
  }
  const carry = (): CarriedEffects => ({
    projection: !projection.idle(),
    notify: notices.carried(),
    stripe: stripe.carried(),
    crm: crm.carried(),
    inFlight: (['notify', 'stripe', 'crm'] as const).filter((name) =>
      ({ notify: notices, stripe, crm })[name].inFlight(),
    ),
  });

  for (;;) {
    const deadline = earliestDeadline(nextDeadline(state), state);
    const pending = (): boolean => queue.length > 0 || snapshots.length > 0;
    if (!pending()) {
      // An operator action may move a deadline (grace extended, override set): wait again for the new one.
      const moved = (): boolean => earliestDeadline(nextDeadline(state), state)?.atMs !== deadline?.atMs;
      const wake = (): boolean =>
        pending() ||
        moved() ||
        (shouldContinueAsNew() && readyToContinueAsNew()) ||
        lanes.some((l) => l.bug() !== undefined);
      if (!deadline) await condition(wake);
      else {
        const waitMs = deadline.atMs - Date.now();
        if (waitMs > 0)
          await condition(wake, waitMs, { summary: `${deadline.timer} at ${new Date(deadline.atMs).toISOString()}` });
      }
    }
    // A programming error in an effect fails the workflow task (Temporal retries it after the fix); never swallowed.
    throwLaneBugs(lanes);

    while (queue.length > 0) {
      const event = queue.shift() as MemberEvent;
      // The cycle keeps the policy it starts with; a new cycle picks up the worker's current config.
      const step = (): Outcome => reduce(state, { kind: 'event', event, nowMs: Date.now(), policy: settings.dunning });
      let outcome: Outcome;
      if (input.settingsOnCycleStart) {
        outcome = step();
        if (startsCycle(outcome)) {
          settings = await loadWorkerSettings.executeWithOptions({ summary: 'load worker settings' }, []);
          outcome = step();
        }
      } else {
        if (NEEDS_POLICY.has(event.type) && !state.seenEventIds.includes(event.eventId))
          settings = await loadWorkerSettings.executeWithOptions({ summary: 'load worker settings' }, []);
        outcome = step();
      }
      if (outcome.note === 'stale' || outcome.note === 'duplicate') {
        log.info('Stripe event did not move the state', {
          eventId: event.eventId,
          type: event.type,
          note: outcome.note,
        });
      }
      apply(outcome);
    }
    while (snapshots.length > 0) {
      const snapshot = snapshots.shift() as MemberSnapshot;
      if (snapshotNeedsPolicy(snapshot))
        settings = await loadWorkerSettings.executeWithOptions({ summary: 'load worker settings' }, []);
      const outcome = applySnapshot(state, snapshot, Date.now(), settings.dunning);
      if (outcome.note === 'stale')
        log.info('Stripe snapshot older than the state', { snapshotId: snapshot.snapshotId });
      apply(outcome);
    }
    apply(reduce(state, { kind: 'tick', nowMs: Date.now() }));
    apply(expireOverride(state, Date.now()));
    if (!started) {
      // The first event moved nothing (no apply published): the member still gets its attributes and projection row.
      started = true;
      if (state.version === startVersion) {
        publish();
        projection.pushCoalesced(state.version);
      }
    }

    if (shouldContinueAsNew() && readyToContinueAsNew() && !pending()) {
      await condition(allHandlersFinished);
      // A billing-help signal handled meanwhile may have queued a notice: it is sent by this run, or carried.
      if (!readyToContinueAsNew()) continue;
      // A local activity in flight ends before the run does (it gives up after a few seconds of attempts).
      if (carryEffects) {
        await condition(() => !projecting);
        // An effect in flight gets a moment to finish (a healthy call does), so that the next run need not hold its
        // lane for the abandoned attempt; one stuck retrying is carried and held (CarriedEffects).
        const effectLanes = [notices, stripe, crm];
        for (const lane of effectLanes) lane.pause();
        const settled = (): boolean => !effectLanes.some((l) => l.inFlight());
        if (!settled()) await condition(settled, CARRY_WAIT_MS);
      }
      await continueAsNew<typeof membershipWorkflow>({
        customerId: state.customerId,
        state,
        pendingEvents: queue,
        pendingSnapshots: snapshots,
        lean: true,
        settingsOnCycleStart: true,
        ...(carryEffects ? { pendingEffects: carry() } : {}),
      });
    }
  }
}

export type WorkerSettings = {
  dunning: DunningPolicy;
  crmEnabled: boolean;
  historyLimit: number;
  /** OPERATOR_MAX_GRACE_EXTENSION; absent in settings recorded before the console. */
  operatorMaxGraceExtensionMs?: number;
  /** EFFECT_RETRY_DEADLINE; absent in histories recorded before it existed (no deadline then). */
  effectDeadlineMs?: number;
};
