/**
 * POST /members/:id/billing-portal (API key): a Stripe Billing Portal session for a member, so the app's billing page
 * can send a blocked or paying member to manage their own subscription. The app never talks to Stripe for this.
 */
import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import Stripe from 'stripe';
import { createBillingPortalUrl } from '../../lib/billing-portal';
import { billingPortalAnswerSchema, billingPortalRequestSchema, memberIdSchema } from '../../lib/contract';
import type { Db } from '../../lib/db';
import { classifyHttpFailure } from '../../lib/http-failures';
import { BadRequestError, DependencyUnavailableError, NotFoundError, typedBodyErrors } from '../errors';
import { findMembership } from '../member-store';

const BODY_LIMIT = '4kb';
/** The app's page is waiting: fail fast rather than hold the member's request. */
const STRIPE_TIMEOUT_MS = 5000;

export function billingPortalRouter(deps: { db: Db; stripe?: Stripe; defaultReturnUrl?: string }): Router {
  const router = Router();
  router.post('/members/:id/billing-portal', express.json({ limit: BODY_LIMIT }), async (req, res) => {
    const id = memberIdSchema.safeParse(req.params['id']);
    if (!id.success) throw new BadRequestError('invalid_member_id', 'id is not a valid member id');
    const body = billingPortalRequestSchema.safeParse(req.body ?? {});
    if (!body.success) {
      const issue = body.error.issues[0];
      throw new BadRequestError('invalid_request', `${issue?.path.join('.') || 'body'} ${issue?.message ?? 'is invalid'}`);
    }
    if (!deps.stripe) {
      res.status(503).json({ error: 'not_configured', message: 'STRIPE_SECRET_KEY is not set' });
      return;
    }
    const row = await findMembership(deps.db, id.data);
    if (!row) throw new NotFoundError({ error: 'member_not_found', memberId: id.data });
    let url: string;
    try {
      url = await createBillingPortalUrl(deps.stripe, {
        customer: row.customer_id,
        returnUrl: body.data.returnUrl ?? deps.defaultReturnUrl,
        // One session per click: a portal url is short-lived, so a key reused across clicks would hand back an
        // expired one. The key still makes the library's own retry of this one request (if enabled) harmless.
        idempotencyKey: `billing-portal:${row.customer_id}:${randomUUID()}`,
        timeoutMs: STRIPE_TIMEOUT_MS,
      });
    } catch (err) {
      const failure = classifyHttpFailure(err);
      if (failure.retryable) throw new DependencyUnavailableError('stripe', failure.message, { cause: err });
      throw err;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json(billingPortalAnswerSchema.parse({ memberId: id.data, url }));
  });
  router.use(
    '/members/:id/billing-portal',
    typedBodyErrors({ limit: BODY_LIMIT, malformed: () => new BadRequestError('malformed_body', 'body is not valid JSON') }),
  );
  return router;
}
