/**
 * The founder's console actions as Updates of the member workflow: validators refuse what makes no sense (the
 * console shows their message), handlers change the state through the same effects and projection as Stripe events,
 * so every action shows in the workflow history and the projection the app's access check reads.
 * Pure decisions below, the handler wiring at the end.
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { Draft } from './draft';
import { iso, type MemberState, type Outcome } from './member-state';
import {
  accessOverrideUpdate,
  addNoteUpdate,
  extendGracePeriodUpdate,
  MAX_OVERRIDE_MS,
  resendPaymentLinkUpdate,
  retryCrmSyncUpdate,
  type AccessOverrideInput,
  type ActionBase,
  type AddNoteInput,
  type ExtendGraceInput,
} from './operator-messages';

/** Default for workers whose settings predate OPERATOR_MAX_GRACE_EXTENSION. */
const DEFAULT_MAX_GRACE_EXTENSION_MS = 7 * 24 * 3600 * 1000;

const reject = (message: string): never => {
  throw ApplicationFailure.nonRetryable(message, 'OperatorActionRejected');
};

const days = (ms: number): string => {
  const h = ms / 3_600_000;
  return h >= 24 && h % 24 === 0 ? `${h / 24} day${h === 24 ? '' : 's'}` : `${+h.toFixed(2)} hours`;
};

function requireReason(reason: string): void {
  if (!reason.trim()) reject('a reason is required');
  if (reason.length > 500) reject('the reason is longer than 500 characters');
}

export function validateExtendGrace(s: MemberState, input: ExtendGraceInput, maxMs: number): void {
  if (s.status !== 'grace_period' || !s.dunning) {
    reject(`no grace period is running (the member is ${s.status})`);
  }
  if (!Number.isFinite(input.extendByMs) || input.extendByMs <= 0) reject('the extension must be longer than zero');
  if (input.extendByMs > maxMs) reject(`a grace period can be extended by at most ${days(maxMs)} at a time`);
  requireReason(input.reason);
}

/** Moves the grace end later; the final cancel moves with it when the grace period would outlast it. */
export function extendGrace(s: MemberState, input: ExtendGraceInput, nowMs: number): Outcome {
  const d = new Draft(s, nowMs);
  const dunning = s.dunning;
  if (!dunning) return d.result('ignored');
  const graceEndsMs = Date.parse(dunning.graceEndsAt) + input.extendByMs;
  const cancelsMs = Math.max(Date.parse(dunning.cancelsAt), graceEndsMs);
  d.set('dunning', { ...dunning, graceEndsAt: iso(graceEndsMs), cancelsAt: iso(cancelsMs) });
  return d.result('applied');
}

export function validateResendPaymentLink(s: MemberState): void {
  if (!s.dunning || (s.status !== 'grace_period' && s.status !== 'past_due')) {
    reject(`there is no unpaid invoice to send a link for (the member is ${s.status})`);
  }
}

/** One notice now with the pay and card-update links, keyed by the action so a retried update sends once. */
export function resendPaymentLink(s: MemberState, actionId: string, nowMs: number): Outcome {
  const d = new Draft(s, nowMs);
  const dunning = s.dunning;
  if (!dunning) return d.result('ignored');
  d.notify('dunning_reminder', `${s.customerId}:dunning:${dunning.cycle}:operator:${actionId}`, {
    hostedInvoiceUrl: dunning.hostedInvoiceUrl,
    failureReason: dunning.failureReason,
    invoiceId: dunning.invoiceId,
    cancelsAt: dunning.cancelsAt,
  });
  return d.result('applied');
}

export function validateAccessOverride(s: MemberState, input: AccessOverrideInput): void {
  if (input.mode === 'clear') {
    if (!s.accessOverride) reject('there is no manual access override to remove');
    return;
  }
  if (!Number.isFinite(input.forMs) || input.forMs <= 0) reject('the override must last longer than zero');
  if (input.forMs > MAX_OVERRIDE_MS) reject(`an override can last at most ${days(MAX_OVERRIDE_MS)}`);
  requireReason(input.reason);
}

export function setAccessOverride(s: MemberState, input: AccessOverrideInput, nowMs: number): Outcome {
  const d = new Draft(s, nowMs);
  d.set(
    'accessOverride',
    input.mode === 'clear'
      ? null
      : {
          allowed: input.mode === 'grant',
          reason: input.reason.trim(),
          until: iso(nowMs + input.forMs),
          by: input.by,
          at: iso(nowMs),
        },
  );
  return d.result('applied');
}

/** When the override ends, access follows the status again. */
export function overrideDeadline(s: MemberState): { atMs: number; timer: string } | undefined {
  return s.accessOverride ? { atMs: Date.parse(s.accessOverride.until), timer: 'access_override_end' } : undefined;
}

export function expireOverride(s: MemberState, nowMs: number): Outcome {
  const d = new Draft(s, nowMs);
  if (s.accessOverride && Date.parse(s.accessOverride.until) <= nowMs) d.set('accessOverride', null);
  return d.result(undefined);
}

/** The earlier of the workflow's own deadline and the override's end. */
export function earliestDeadline<T extends { atMs: number; timer: string }>(
  a: T | undefined,
  s: MemberState,
): { atMs: number; timer: string } | undefined {
  const b = overrideDeadline(s);
  if (!a) return b;
  if (!b) return a;
  return b.atMs < a.atMs ? b : a;
}

export interface OperatorContext {
  state(): MemberState;
  apply(outcome: Outcome): void;
  /** OPERATOR_MAX_GRACE_EXTENSION of the worker, when its settings carry it. */
  maxGraceExtensionMs(): number | undefined;
  crmEnabled(): boolean;
}

export function installOperatorActions(ctx: OperatorContext): void {
  setHandler(
    extendGracePeriodUpdate,
    (input) => {
      ctx.apply(extendGrace(ctx.state(), input, Date.now()));
      const dunning = ctx.state().dunning;
      const graceEndsAt = dunning?.graceEndsAt ?? '';
      return { message: `grace period now ends ${graceEndsAt}`, graceEndsAt, cancelsAt: dunning?.cancelsAt ?? '' };
    },
    {
      validator: (input) =>
        validateExtendGrace(ctx.state(), input, ctx.maxGraceExtensionMs() ?? DEFAULT_MAX_GRACE_EXTENSION_MS),
    },
  );
  setHandler(
    resendPaymentLinkUpdate,
    ({ actionId }) => {
      const outcome = resendPaymentLink(ctx.state(), actionId, Date.now());
      ctx.apply(outcome);
      const key = outcome.effects[0]?.key ?? '';
      return { message: 'payment link queued to the member', noticeKey: key };
    },
    { validator: (_input: ActionBase) => validateResendPaymentLink(ctx.state()) },
  );
  setHandler(
    retryCrmSyncUpdate,
    ({ actionId }) => {
      const s = ctx.state();
      const syncKey = `${s.customerId}:op:${actionId}`;
      ctx.apply({ state: s, effects: [{ type: 'crmSync', key: syncKey, addTags: [], removeTags: [] }] });
      return { message: 'CRM sync queued', syncKey };
    },
    {
      validator: (_input: ActionBase) => {
        if (!ctx.crmEnabled()) reject('CRM sync is off (INTERCOM_ACCESS_TOKEN is not set on the worker)');
      },
    },
  );
  setHandler(
    accessOverrideUpdate,
    (input) => {
      ctx.apply(setAccessOverride(ctx.state(), input, Date.now()));
      const o = ctx.state().accessOverride;
      return {
        message: o ? `access ${o.allowed ? 'granted' : 'revoked'} until ${o.until}` : 'override removed',
      };
    },
    { validator: (input) => validateAccessOverride(ctx.state(), input) },
  );
  setHandler(addNoteUpdate, () => ({ message: 'note added' }), {
    validator: (input: AddNoteInput) => {
      if (!input.text.trim()) reject('the note is empty');
      if (input.text.length > 2000) reject('the note is longer than 2,000 characters');
    },
  });
}
