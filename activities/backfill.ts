/** The backfill's I/O: one page of Stripe customers read and handed to member workflows as snapshots. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { MemberSnapshot } from '../workflows/snapshot-messages';
import { toActivityFailure } from './failures';
import { currentSubscription, handOffSnapshots, snapshotOf } from './stripe-snapshots';

export interface BackfillPageInput {
  runId: string;
  /** The last customer of the previous page (Stripe's `starting_after`); null for the first page. */
  startingAfter: string | null;
  limit: number;
}

export interface BackfillPage {
  customers: number;
  /** Customers memberops had no membership row for before this page. */
  created: number;
  updated: number;
  /** Id of the page's last customer: the cursor of the next page. */
  lastId: string | null;
  hasMore: boolean;
  /** Stripe requests this attempt made (the workflow paces pages by them). */
  requests: number;
  /** Attempts of this page that failed before this one (429, 5xx, timeouts). */
  failedAttempts: number;
}

export function createBackfillActivities({ db, stripe, log }: { db: Db; stripe?: Stripe; log: Logger }) {
  return {
    /** Reads one page of customers (with their subscriptions and latest invoice) and hands each over as a snapshot. */
    async backfillCustomerPage(input: BackfillPageInput): Promise<BackfillPage> {
      if (!stripe) throw ApplicationFailure.nonRetryable('STRIPE_SECRET_KEY is not set', 'StripeNotConfigured');
      const { client, info } = Context.current();
      // Taken before Stripe is asked: what the page says is at least this new.
      const takenAt = Math.floor(Date.now() / 1000);
      const snapshotId = `backfill:${input.runId}`;
      let requests = 1;
      const snapshots: MemberSnapshot[] = [];
      let page: Stripe.ApiList<Stripe.Customer>;
      try {
        page = await stripe.customers.list({
          limit: input.limit,
          expand: ['data.subscriptions.data.latest_invoice'],
          ...(input.startingAfter ? { starting_after: input.startingAfter } : {}),
        });
        for (const customer of page.data) {
          const { sub, requests: extra } = await currentSubscription(stripe, customer);
          requests += extra;
          snapshots.push(snapshotOf(customer, sub, { snapshotId, takenAt }));
        }
      } catch (err) {
        throw toActivityFailure(err, 'Stripe customers page');
      }
      const ids = snapshots.map((s) => s.customerId);
      const known = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM memberships WHERE customer_id = ANY($1::text[])',
        [ids],
      );
      const existing = Number(known[0]?.n ?? 0);
      // Heartbeats: a worker that dies mid-page is noticed in seconds, and the page is read again by another.
      Context.current().heartbeat();
      await handOffSnapshots(client, info.taskQueue, snapshots, { onProgress: () => Context.current().heartbeat() });
      log.debug({ runId: input.runId, customers: ids.length, requests }, 'backfill page handed off');
      return {
        customers: ids.length,
        created: ids.length - existing,
        updated: existing,
        lastId: ids.at(-1) ?? input.startingAfter,
        hasMore: page.has_more,
        requests,
        failedAttempts: info.attempt - 1,
      };
    },
  };
}
