/** POST /webhooks/stripe: verify the signature on the raw body, then hand off. */
import express, { Router } from 'express';
import Stripe from 'stripe';
import type { Metrics } from '../../lib/metrics';
import type { Logger } from '../../lib/logger';
import { BadRequestError, DependencyUnavailableError } from '../errors';
import { processStripeEvent, type ProcessDeps } from '../../lib/process-stripe-event';
import { stripeEventIdentity } from '../../lib/stripe-events';

export const WEBHOOK_BODY_LIMIT = '1mb';

export function stripeWebhookRouter(deps: ProcessDeps & { webhookSecret: string; log: Logger; metrics: Metrics }): Router {
  const router = Router();
  // The raw body is needed for the signature: express.raw on this route only.
  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const stopTimer = deps.metrics.webhookAckSeconds.startTimer();
    let setAside = false;
    // Counted by the status actually answered, whichever handler chose it (400 here, 503/500 in the app's error handler).
    res.once('finish', () => {
      const code = res.statusCode;
      const outcome = code >= 500 ? 'error' : code >= 400 ? 'rejected' : setAside ? 'set_aside' : 'accepted';
      deps.metrics.webhookDeliveries.inc({ outcome, code: String(code) });
    });
    const reject = (reason: string, message: string): never => {
      deps.metrics.webhookRejections.inc({ reason });
      throw new BadRequestError(reason, message);
    };
    try {
      const signature = req.header('stripe-signature');
      if (!signature) return reject('missing_signature', 'Stripe-Signature header is missing');
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) return reject('empty_body', 'request body is empty');
      let parsed: unknown;
      try {
        // Default tolerance (300 s): a replayed old delivery is refused as stale.
        parsed = Stripe.webhooks.constructEvent(req.body, signature, deps.webhookSecret);
      } catch (err) {
        if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
          return reject('bad_signature', 'signature verification failed');
        }
        return reject('malformed_body', 'body is not valid JSON');
      }
      // Without an id, type and time the body is no event to keep; past that, nothing verified is refused.
      const identity = stripeEventIdentity.safeParse(parsed);
      if (!identity.success) {
        const issue = identity.error.issues[0];
        return reject('malformed_event', `${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'invalid'}`);
      }
      const result = await processStripeEvent(deps, identity.data);
      setAside = result.outcome === 'unlinked' || result.outcome === 'set_aside';
      res.status(200).json({ received: true, eventId: identity.data.id, ...result });
    } catch (err) {
      // Answered 503 + Retry-After by the app's error handler; Stripe redelivers.
      if (err instanceof DependencyUnavailableError) {
        deps.metrics.webhookRejections.inc({ reason: `${err.dependency}_unavailable` });
      }
      throw err;
    } finally {
      stopTimer();
    }
  });
  return router;
}
