/**
 * The founder's console actions on a member, as Temporal Updates of the member workflow: the contract between
 * `api/admin/` and `workflows/operator-actions.ts`. Every action carries its id (also the update id, so a repeated
 * POST is one update) and who took it, so the workflow history says who did what.
 */
import { defineUpdate } from '@temporalio/workflow';

export interface ActionBase {
  /** Unique per action; the update id and part of effect idempotency keys. */
  actionId: string;
  /** The signed-in founder's email. */
  by: string;
}

export interface ExtendGraceInput extends ActionBase {
  extendByMs: number;
  reason: string;
}
export interface AccessOverrideInput extends ActionBase {
  /** grant: access whatever the status; revoke: no access whatever the status; clear: back to the status. */
  mode: 'grant' | 'revoke' | 'clear';
  /** How long a grant or revoke holds (ignored by clear). */
  forMs: number;
  reason: string;
}
export interface AddNoteInput extends ActionBase {
  text: string;
}

/** What an action did, in words the console shows. */
export interface ActionResult {
  message: string;
}

export const extendGracePeriodUpdate = defineUpdate<
  ActionResult & { graceEndsAt: string; cancelsAt: string },
  [ExtendGraceInput]
>('extendGracePeriod');
export const resendPaymentLinkUpdate = defineUpdate<ActionResult & { noticeKey: string }, [ActionBase]>(
  'resendPaymentLink',
);
export const retryCrmSyncUpdate = defineUpdate<ActionResult & { syncKey: string }, [ActionBase]>('retryCrmSync');
export const accessOverrideUpdate = defineUpdate<ActionResult, [AccessOverrideInput]>('accessOverride');
export const addNoteUpdate = defineUpdate<ActionResult, [AddNoteInput]>('addNote');

export const OPERATOR_ACTION_KINDS = [
  'extend_grace',
  'resend_payment_link',
  'retry_crm_sync',
  'access_override',
  'note',
] as const;
export type OperatorActionKind = (typeof OPERATOR_ACTION_KINDS)[number];

/** The longest a manual access override may last. */
export const MAX_OVERRIDE_MS = 365 * 24 * 3600 * 1000;

/** A manual access override the founder set: it decides access until it ends, whatever the status. */
export interface AccessOverride {
  allowed: boolean;
  reason: string;
  /** ISO */
  until: string;
  by: string;
  /** ISO */
  at: string;
}

/** Access as the status gives it, unless a manual override holds. */
export function withOverride(
  access: { allowed: boolean; reason: string },
  override: AccessOverride | null | undefined,
): { allowed: boolean; reason: string } {
  if (!override) return access;
  const verb = override.allowed ? 'granted' : 'revoked';
  return { allowed: override.allowed, reason: `access ${verb} manually until ${override.until}: ${override.reason}` };
}
