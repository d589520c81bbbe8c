/** Stripe API writes, each with a stable idempotency key so a retried activity never cancels twice. */
import type Stripe from 'stripe';
import { ApplicationFailure } from '@temporalio/activity';
import { classifyHttpFailure } from '../lib/http-failures';
import type { Logger } from '../lib/logger';
import { toActivityFailure } from './failures';

export function createStripeActivities({ stripe, log }: { stripe?: Stripe; log: Logger }) {
  return {
    /** Cancels a subscription in Stripe (final dunning step with DUNNING_FINAL_ACTION=cancel_in_stripe). */
    async cancelSubscriptionInStripe(input: {
      subscriptionId: string;
      idempotencyKey: string;
      customerId: string;
    }): Promise<{ status: string }> {
      if (!stripe) {
        throw ApplicationFailure.nonRetryable(
          'DUNNING_FINAL_ACTION=cancel_in_stripe needs STRIPE_SECRET_KEY',
          'StripeNotConfigured',
        );
      }
      try {
        const sub = await stripe.subscriptions.cancel(input.subscriptionId, {}, { idempotencyKey: input.idempotencyKey });
        log.info({ customerId: input.customerId, subscriptionId: input.subscriptionId, requestId: sub.lastResponse?.requestId }, 'subscription canceled in Stripe');
        return { status: sub.status };
      } catch (err) {
        // Already gone in Stripe is the outcome we wanted.
        if (classifyHttpFailure(err).code === 'resource_missing') return { status: 'missing' };
        throw toActivityFailure(err, 'Stripe subscription cancel');
      }
    },
  };
}
