/**
 * GET /members/:id/messenger (API key): what the app needs to boot the Intercom Messenger for a signed-in member
 * with identity verification: `intercom_user_jwt` is a JWT (HS256) with the member's `user_id` (the contact's
 * external_id: the app user id when known, else the Stripe customer id) and `email`, signed with the Messenger's
 * identity verification secret and valid for at most an hour.
 */
import { Router } from 'express';
import jwt from 'jsonwebtoken';
import type { Db } from '../../lib/db';
import { memberIdSchema, messengerAnswerSchema } from '../../lib/contract';
import { findMembership } from '../member-store';

export const MESSENGER_TOKEN_SECONDS = 60 * 60;

export function messengerRouter(deps: { db: Db; secret?: string; appId?: string }): Router {
  const router = Router();
  router.get('/members/:id/messenger', async (req, res) => {
    const id = memberIdSchema.safeParse(req.params['id']);
    if (!id.success) {
      res.status(400).json({ error: 'invalid_member_id', message: 'id is not a valid member id' });
      return;
    }
    if (!deps.secret || !deps.appId) {
      res.status(503).json({ error: 'not_configured', message: 'INTERCOM_MESSENGER_SECRET and INTERCOM_APP_ID are not set' });
      return;
    }
    const row = await findMembership(deps.db, id.data);
    if (!row) {
      res.status(404).json({ error: 'member_not_found', memberId: id.data });
      return;
    }
    const userId = row.app_user_id ?? row.customer_id;
    const claims = { user_id: userId, ...(row.email ? { email: row.email } : {}) };
    const token = jwt.sign(claims, deps.secret, { algorithm: 'HS256', expiresIn: MESSENGER_TOKEN_SECONDS });
    res.setHeader('Cache-Control', 'no-store');
    res.json(messengerAnswerSchema.parse({ appId: deps.appId, userId, email: row.email, token }));
  });
  return router;
}
