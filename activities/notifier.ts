/** Member-facing notices, each sent at most once per idempotency key (member, cycle, step). */
import type Stripe from 'stripe';
import { createBillingPortalUrl } from '../lib/billing-portal';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { workerMetrics, type WorkerMetrics } from '../lib/metrics';
import type { Effect } from '../workflows/member-state';
import { isNonRetryable, toActivityFailure } from './failures';
import type { MemberMessages } from './intercom/messages';
import { composeNotice, NEEDS_PORTAL_LINK } from './notice-templates';

export interface NotifierDeps {
  db: Db;
  log: Logger;
  /** The Intercom workspace's member messages, or the log when Intercom is not configured. */
  messages: MemberMessages;
  stripe?: Stripe;
  billingPortalReturnUrl?: string;
  metrics?: WorkerMetrics;
}

export function createNotifierActivities({
  db,
  log,
  messages,
  stripe,
  billingPortalReturnUrl,
  metrics = workerMetrics(),
}: NotifierDeps) {
  async function billingPortalUrl(customerId: string, key: string): Promise<string | null> {
    if (!stripe) return null;
    try {
      return await createBillingPortalUrl(stripe, {
        customer: customerId,
        returnUrl: billingPortalReturnUrl,
        idempotencyKey: `portal:${key}`,
      });
    } catch (err) {
      throw toActivityFailure(err, 'Stripe billing portal session');
    }
  }

  return {
    /** Sends one member notice; a retried activity or replayed event never sends twice. */
    async sendMemberNotice(effect: Extract<Effect, { type: 'notify' }>): Promise<{ sent: boolean; channel: string }> {
      const { key, kind, data } = effect;
      // Claim the key first; a row already marked 'sent' means an earlier attempt finished.
      const [row] = await db.query<{ status: string }>(
        `INSERT INTO member_notices (key, customer_id, kind, channel, status) VALUES ($1, $2, $3, $4, 'sending')
         ON CONFLICT (key) DO UPDATE SET channel = EXCLUDED.channel RETURNING status`,
        [key, data.customerId, kind, messages.channel],
      );
      if (row?.status === 'sent') {
        log.info({ key, kind }, 'member notice already sent; skipped');
        return { sent: false, channel: messages.channel };
      }
      const portal = NEEDS_PORTAL_LINK.has(kind) ? await billingPortalUrl(data.customerId, key) : null;
      const message = composeNotice(kind, data, { billingPortalUrl: portal });
      let requestId: string | undefined;
      try {
        ({ requestId } = await messages.send(
          { customerId: data.customerId, email: data.email, appUserId: data.appUserId ?? null },
          message,
        ));
      } catch (err) {
        const failure = toActivityFailure(err, `notice ${kind}`);
        metrics.notices.inc({ outcome: isNonRetryable(failure) ? 'permanently_failed' : 'failed' });
        throw failure;
      }
      await db.query(`UPDATE member_notices SET status = 'sent', sent_at = now(), detail = $2 WHERE key = $1`, [
        key,
        JSON.stringify({ subject: message.subject, requestId: requestId ?? null, hasPortalLink: !!portal }),
      ]);
      metrics.notices.inc({ outcome: 'sent' });
      log.info({ key, kind, channel: messages.channel, requestId }, 'member notice sent');
      return { sent: true, channel: messages.channel };
    },
  };
}
