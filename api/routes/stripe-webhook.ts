/** POST /webhooks/stripe: verify the signature on the raw body, then hand off. */
import express, { Router } from 'express';
import Stripe from 'stripe';
import type { Metrics } from '../../lib/metrics';
import type { Logger } from '../../lib/logger';
import { processStripeEvent, TransientError, type ProcessDeps } from '../process-stripe-event';
import { MalformedEventError, stripeEventEnvelope } from '../stripe-events';

export const WEBHOOK_BODY_LIMIT = '1mb';

export function stripeWebhookRouter(deps: ProcessDeps & { webhookSecret: string; log: Logger; metrics: Metrics }): Router {
  const router = Router();
  // The raw body is needed for the signature: express.raw on this route only.
  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const stopTimer = deps.metrics.webhookAckSeconds.startTimer();
    const reject = (status: number, reason: string, message: string): void => {
      deps.metrics.webhookRejections.inc({ reason });
      res.status(status).json({ error: reason, message });
    };
    try {
      const signature = req.header('stripe-signature');
      if (!signature) return reject(400, 'missing_signature', 'Stripe-Signature header is missing');
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) return reject(400, 'empty_body', 'request body is empty');
      let parsed: unknown;
      try {
        // Default tolerance (300 s): a replayed old delivery is refused as stale.
        parsed = Stripe.webhooks.constructEvent(req.body, signature, deps.webhookSecret);
      } catch (err) {
        if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
          return reject(400, 'bad_signature', 'signature verification failed');
        }
        return reject(400, 'malformed_body', 'body is not valid JSON');
      }
      const envelope = stripeEventEnvelope.safeParse(parsed);
      if (!envelope.success) {
        const issue = envelope.error.issues[0];
        return reject(400, 'malformed_event', `${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'invalid'}`);
      }
      const result = await processStripeEvent(deps, envelope.data);
      res.status(200).json({ received: true, eventId: envelope.data.id, ...result });
    } catch (err) {
      if (err instanceof MalformedEventError) return reject(400, 'malformed_event', err.message);
      if (err instanceof TransientError) {
        deps.log.warn({ dependency: err.dependency, err: err.message }, 'webhook handoff failed; Stripe will retry');
        res.setHeader('Retry-After', '5');
        return reject(503, `${err.dependency}_unavailable`, 'temporarily unavailable; retry later');
      }
      throw err;
    } finally {
      stopTimer();
    }
  });
  return router;
}
