/** POST /support/requests: a support message from the app (a contact form, a help widget), rate-limited per client. */
import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { supportAnswerSchema, supportRequestSchema } from '../../lib/contract';
import { BadRequestError, typedBodyErrors } from '../errors';
import { processSupportMessage, type SupportIntakeDeps } from '../support-intake';
import { supportAnswer } from '../support-trust';

export const SUPPORT_BODY_LIMIT = '64kb';

const invalid = (field: string, message: string): BadRequestError =>
  new BadRequestError('invalid_request', message, { field });

export function supportRequestsRouter(deps: SupportIntakeDeps & { rateLimitPerMinute: number }): Router {
  const router = Router();
  // Keyed by client IP (behind a proxy on loopback, the forwarded one: the app sets `trust proxy`).
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: deps.rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).json({ error: 'rate_limited', message: 'too many support requests; try again in a minute' });
    },
  });

  router.post('/support/requests', limiter, express.json({ limit: SUPPORT_BODY_LIMIT }), async (req, res) => {
    const parsed = supportRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalid(issue?.path.join('.') || '(request body)', issue?.message ?? 'is invalid');
    }
    const { memberId, email, subject, body } = parsed.data;
    const result = await processSupportMessage(deps, {
      source: 'api',
      dedupeKey: `api:${randomUUID()}`,
      memberId,
      email,
      subject: subject || undefined,
      body,
    });
    res.status(202).json(supportAnswerSchema.parse(supportAnswer(result)));
  });

  // Body-parser failures of this route, in this route's words (the app's handler speaks of the webhook limit).
  router.use(
    '/support/requests',
    typedBodyErrors({ limit: SUPPORT_BODY_LIMIT, malformed: () => invalid('(request body)', 'is not valid JSON') }),
  );
  return router;
}
