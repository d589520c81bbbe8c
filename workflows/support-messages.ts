/**
 * The support feature's contract, shared by the intake (`api/`), the classifier (`lib/support/`), the support
 * workflow and its activities: intents, routes, the workflow's input and result, and the billing hand-off signal.
 * Deterministic, dependency-free (only the workflow SDK's define* helpers).
 */
import { defineSignal } from '@temporalio/workflow';

import type { SupportIntent, SupportRoute } from './vocabulary';

export { SUPPORT_INTENTS, type SupportIntent, type SupportRoute } from './vocabulary';

/** What each step did, by name: `sent`, `already_sent`, `failed: …`, … (shown in GET /members/:id). */
export type SupportSteps = Record<string, string>;
export type SupportOutcome = 'replied' | 'answered_in_response' | 'escalated';

/** No reply text, no message: activities read the request from PostgreSQL, so history holds ids and the decision. */
export interface SupportWorkflowInput {
  requestId: string;
  customerId: string | null;
  conversationId: string | null;
  intent: SupportIntent;
  route: SupportRoute;
}

export interface SupportWorkflowResult {
  outcome: SupportOutcome;
  steps: SupportSteps;
}

/** Business id of the workflow that carries out one support request. */
export const supportWorkflowId = (requestId: string): string => `support-${requestId}`;

/** A support request about billing from this member, handed over by the support workflow. */
interface BillingHelpRequest {
  /** The support request (`support_requests.id`): part of the notice's idempotency key. */
  requestId: string;
}

/** The member asked support about billing: while a dunning cycle runs, send the pay and card-update links now. */
export const billingHelpSignal = defineSignal<[BillingHelpRequest]>('billingHelp');
