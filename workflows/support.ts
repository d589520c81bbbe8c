/**
 * One workflow per support request (`support-<request id>`): carries out the route the intake decided.
 * auto_reply / billing_flow: reply (Intercom conversation, else the member's messenger); billing_flow also hands the
 * request to the member's workflow. human, or a reply that could not be delivered: tag the conversation with the
 * intent, assign it to the team inbox, raise one founder alert. Then the outcome is recorded.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { unlimitedRetry } from './membership';
import { memberWorkflowId } from './messages';
import {
  billingHelpSignal,
  type SupportIntent,
  type SupportOutcome,
  type SupportSteps,
  type SupportWorkflowInput,
  type SupportWorkflowResult,
} from './support-messages';

// Like the CRM lane: transient failures retry without limit (with backoff); a non-retryable one ends its step.
const { replyInConversation, sendSupportReply, tagSupportConversation, assignSupportConversation, raiseSupportAlert } =
  proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: unlimitedRetry,
  });
const { recordSupportOutcome } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** The Intercom tag a conversation handed to a person gets. */
const supportTag = (intent: SupportIntent): string => `support_${intent}`;

function failureText(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  const type = cause instanceof ApplicationFailure && cause.type ? ` [${cause.type}]` : '';
  return `failed: ${message}${type}`.slice(0, 500);
}

/** Carries out one classified support request. */
export async function supportRequestWorkflow(input: SupportWorkflowInput): Promise<SupportWorkflowResult> {
  const { requestId, customerId, conversationId } = input;
  const steps: SupportSteps = {};

  /** Runs one step; a failure that Temporal gave up on (non-retryable) is recorded and the request goes on. */
  async function step(name: string, run: () => Promise<string>): Promise<boolean> {
    try {
      steps[name] = await run();
      return true;
    } catch (err) {
      steps[name] = failureText(err);
      log.warn('support step failed permanently', { requestId, step: name, error: steps[name] });
      return false;
    }
  }

  /** Where the automatic reply goes; undefined when it could not be delivered (a person answers instead). */
  async function deliverReply(): Promise<SupportOutcome | undefined> {
    if (conversationId) {
      const ok = await step('reply', async () =>
        (await replyInConversation({ requestId })).sent ? 'sent' : 'already_sent',
      );
      return ok ? 'replied' : undefined;
    }
    if (customerId) {
      const ok = await step('reply', async () => {
        const r = await sendSupportReply({ requestId });
        return r.sent ? `sent (${r.channel})` : 'already_sent';
      });
      return ok ? 'replied' : undefined;
    }
    // An API request from an unknown sender: the reply went back in the HTTP answer, and there is nowhere else to send it.
    steps['reply'] = 'in_response_only';
    return 'answered_in_response';
  }

  const outcome: SupportOutcome = (input.route !== 'human' && (await deliverReply())) || 'escalated';
  const needsPerson = outcome === 'escalated';

  if (input.route === 'billing_flow' && customerId) {
    await step('handoff', async () => {
      await getExternalWorkflowHandle(memberWorkflowId(customerId)).signal(billingHelpSignal, { requestId });
      return `signaled ${memberWorkflowId(customerId)}`;
    });
  }

  if (needsPerson) {
    if (conversationId) {
      await step(
        'tag',
        async () =>
          `tagged ${(await tagSupportConversation({ requestId, tags: [supportTag(input.intent)] })).tagged.join(', ')}`,
      );
      await step('assign', async () => {
        const a = await assignSupportConversation({ requestId });
        return `assigned to ${a.type} ${a.id}`;
      });
    }
    await step('alert', async () => {
      const a = await raiseSupportAlert({ requestId });
      return a.raised ? `raised ${a.key}` : `already raised ${a.key}`;
    });
  }

  await recordSupportOutcome({ requestId, outcome, steps });
  return { outcome, steps };
}
