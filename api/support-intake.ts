/**
 * What happens to a support message, independent of HTTP: find the member, classify the message, compose the
 * automatic reply, record the request in PostgreSQL, and start its `supportRequestWorkflow`. A message received
 * again (an Intercom redelivery) answers what was decided the first time and starts nothing new. PostgreSQL and
 * Temporal outages surface as DependencyUnavailableError (the app answers 503).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { createBillingPortalUrl } from '../lib/billing-portal';
import type { Db } from '../lib/db';
import { capText, MAX_MESSAGE_CHARS, MAX_SUBJECT_CHARS } from '../lib/free-text';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { classifySupportRequest, type RuleMatch, type SupportClassification } from '../lib/support/classifier';
import {
  describeMembership,
  renderReply,
  ReplyTemplateError,
  requiredPlaceholders,
  type ReplyContext,
} from '../lib/support/templates';
import type { supportRequestWorkflow } from '../workflows/support';
import {
  supportWorkflowId,
  type SupportIntent,
  type SupportRoute,
  type SupportWorkflowInput,
} from '../workflows/support-messages';
import { findMembership, type MembershipRow } from './member-store';
import { callTemporal } from '../lib/temporal-call';
import { deliveredVia, gateByTrust, type DeliveredVia } from './support-trust';

export interface SupportIntakeDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  /** For the latest invoice (when the projection has none) and Billing Portal links; without it those replies go to a person. */
  stripe?: Stripe;
  /** Values the reply templates quote (APP_LOGIN_URL, APP_CANCEL_PATH, BILLING_PORTAL_RETURN_URL). */
  replyValues: { loginUrl?: string; cancelPath?: string; billingPortalReturnUrl?: string };
  /** SUPPORT_AUTO_REPLY_MIN_CONFIDENCE; unset: the classifier's default. */
  autoReplyMinConfidence?: number;
  /** Counts classified requests by intent and route (the playbook's support volume). */
  metrics?: Pick<Metrics, 'supportRequests'>;
}

/** A support message from either door, already validated. */
export interface SupportMessage {
  source: 'api' | 'intercom';
  /** The same key means the same message: Intercom's conversation and part; a fresh uuid for API requests. */
  dedupeKey: string;
  /** A Stripe customer id or the app's user id. */
  memberId?: string;
  email?: string;
  /** The Intercom contact's external_id: the app's user id or the Stripe customer id. */
  externalId?: string;
  conversationId?: string;
  contactId?: string;
  /** The Intercom author is not a user with a verified identity: routed to a person, attributed to no member. */
  unverifiedSender?: boolean;
  subject?: string;
  body: string;
}

export interface SupportIntakeResult {
  requestId: string;
  intent: SupportIntent;
  route: SupportRoute;
  /** Where the reply went (api/support-trust.ts); the HTTP answers say this, not what was sent. */
  deliveredVia: DeliveredVia;
  reply?: string;
  /** The message was received before (a redelivery): the first answer, nothing new started. */
  duplicate: boolean;
}

/** Bodies carry PII: PostgreSQL keeps this much of them, and logs none of it. */
export const BODY_EXCERPT_CHARS = 2000;
/** A member who writes again within this window after an automatic reply (API requests) is answered by a person. */
const API_FOLLOW_UP_WINDOW = '24 hours';
/** Stripe lookups happen while the sender waits (Intercom gives a webhook a few seconds). */
const STRIPE_TIMEOUT_MS = 3000;

interface StoredRequest {
  id: string;
  intent: SupportIntent;
  route: SupportRoute;
  reply: string | null;
  customer_id: string | null;
  conversation_id: string | null;
  handed_off_at: Date | null;
}

const STORED_COLUMNS = 'id, intent, route, reply, customer_id, conversation_id, handed_off_at';

async function findByDedupeKey(db: Db, dedupeKey: string): Promise<StoredRequest | undefined> {
  const [row] = await db.query<StoredRequest>(`SELECT ${STORED_COLUMNS} FROM support_requests WHERE dedupe_key = $1`, [
    dedupeKey,
  ]);
  return row;
}

export async function processSupportMessage(
  deps: SupportIntakeDeps,
  msg: SupportMessage,
): Promise<SupportIntakeResult> {
  const { db, log } = deps;
  // Whatever door it came through, the classifier never reads more than this (no request can stall the event loop).
  msg = {
    ...msg,
    body: capText(msg.body, MAX_MESSAGE_CHARS),
    subject: msg.subject === undefined ? undefined : capText(msg.subject, MAX_SUBJECT_CHARS),
  };
  const earlier = await findByDedupeKey(db, msg.dedupeKey);
  if (earlier) return handOff(deps, earlier, true);

  const requestId = randomUUID();
  const member = await findMember(db, msg);
  const decision = gateByTrust(
    classifySupportRequest({
      subject: msg.subject,
      body: msg.body,
      member: member ? { status: member.status, allowed: member.allowed } : null,
      priorAutoReplies: await countPriorAutoReplies(db, msg, member),
      minAutoReplyConfidence: deps.autoReplyMinConfidence,
    }),
    msg,
    Boolean(member),
  );
  const { route, reason, reply } = await withReply(deps, decision, member, requestId);

  const [inserted] = await db.query<StoredRequest>(
    `INSERT INTO support_requests (id, source, dedupe_key, customer_id, email, conversation_id, contact_id, subject,
       body_excerpt, intent, route, confidence, matched, reason, reply)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING ${STORED_COLUMNS}`,
    [
      requestId,
      msg.source,
      msg.dedupeKey,
      member?.customer_id ?? null,
      msg.email ?? member?.email ?? null,
      msg.conversationId ?? null,
      msg.contactId ?? null,
      msg.subject?.slice(0, 500) ?? null,
      msg.body.slice(0, BODY_EXCERPT_CHARS),
      decision.intent,
      route,
      decision.confidence,
      JSON.stringify(decision.matched satisfies RuleMatch[]),
      reason,
      reply,
    ],
  );
  if (!inserted) {
    // The same message arrived twice at once: the other delivery recorded it first.
    const other = await findByDedupeKey(db, msg.dedupeKey);
    if (!other) throw new Error(`support request with dedupe key ${msg.dedupeKey} vanished`);
    return handOff(deps, other, true);
  }
  deps.metrics?.supportRequests.inc({ source: msg.source, intent: decision.intent, route });
  log.info(
    {
      requestId,
      source: msg.source,
      customerId: member?.customer_id ?? null,
      conversationId: msg.conversationId ?? null,
      intent: decision.intent,
      route,
      confidence: decision.confidence,
    },
    'support request classified',
  );
  return handOff(deps, inserted, false);
}

/** By member id (or the Intercom contact's external id), then by email. */
async function findMember(db: Db, msg: SupportMessage): Promise<MembershipRow | undefined> {
  for (const id of [msg.memberId, msg.externalId]) {
    const row = id ? await findMembership(db, id) : undefined;
    if (row) return row;
  }
  if (!msg.email) return undefined;
  const [row] = await db.query<MembershipRow>(
    'SELECT * FROM memberships WHERE lower(email) = lower($1) ORDER BY state_updated_at DESC NULLS LAST LIMIT 1',
    [msg.email],
  );
  return row;
}

/**
 * Automatic replies this sender already got, not counting ones that could not be delivered: in the same Intercom
 * conversation, or for API requests, from the same member (or email) within the follow-up window.
 */
async function countPriorAutoReplies(db: Db, msg: SupportMessage, member: MembershipRow | undefined): Promise<number> {
  const answered = `route <> 'human' AND outcome <> 'escalated'`;
  let rows: Array<{ n: number }>;
  if (msg.conversationId) {
    rows = await db.query(
      `SELECT count(*)::int AS n FROM support_requests WHERE conversation_id = $1 AND ${answered}`,
      [msg.conversationId],
    );
  } else if (member || msg.email) {
    rows = await db.query(
      `SELECT count(*)::int AS n FROM support_requests
       WHERE ${member ? 'customer_id = $1' : 'lower(email) = lower($1)'} AND ${answered}
         AND created_at > now() - $2::interval`,
      [member?.customer_id ?? msg.email, API_FOLLOW_UP_WINDOW],
    );
  } else {
    return 0;
  }
  return rows[0]?.n ?? 0;
}

/** The reply for an automatic route; when a value it needs is missing, the request goes to a person instead. */
async function withReply(
  deps: SupportIntakeDeps,
  decision: SupportClassification,
  member: MembershipRow | undefined,
  requestId: string,
): Promise<{ route: SupportRoute; reason: string; reply: string | null }> {
  if (decision.route === 'human') return { route: 'human', reason: decision.reason, reply: null };
  try {
    return {
      route: decision.route,
      reason: decision.reason,
      reply: await composeReply(deps, decision.intent, member, requestId),
    };
  } catch (err) {
    if (!(err instanceof ReplyTemplateError)) throw err;
    return { route: 'human', reason: `${decision.reason} No automatic reply: ${err.message}.`, reply: null };
  }
}

async function composeReply(
  deps: SupportIntakeDeps,
  intent: SupportIntent,
  member: MembershipRow | undefined,
  requestId: string,
): Promise<string> {
  const needed = new Set(requiredPlaceholders(intent));
  const context: ReplyContext = {
    ...describeMembership(
      member
        ? {
            status: member.status,
            allowed: member.allowed,
            currentPeriodEnd: member.current_period_end,
            trialEnd: member.trial_end,
            cancelAtPeriodEnd: member.cancel_at_period_end,
          }
        : { status: 'none', allowed: false },
    ),
    loginUrl: deps.replyValues.loginUrl,
    cancelPath: deps.replyValues.cancelPath,
  };
  if (member && needed.has('hostedInvoiceUrl')) {
    context.hostedInvoiceUrl =
      member.latest_invoice_url ?? (await latestInvoiceUrl(deps, member.customer_id, requestId));
  }
  if (member && needed.has('billingPortalUrl')) {
    context.billingPortalUrl = await billingPortalUrl(deps, member.customer_id, requestId);
  }
  return renderReply(intent, context);
}

/** Stripe failures leave the value missing (the request then goes to a person); the sender is not kept waiting. */
async function fromStripe<T>(
  deps: SupportIntakeDeps,
  what: string,
  requestId: string,
  ask: (stripe: Stripe) => Promise<T>,
) {
  if (!deps.stripe) return null;
  try {
    return await ask(deps.stripe);
  } catch (err) {
    deps.log.warn(
      { requestId, err: err instanceof Error ? err.message : String(err) },
      `Stripe ${what} failed; a person will answer`,
    );
    return null;
  }
}

function latestInvoiceUrl(deps: SupportIntakeDeps, customer: string, requestId: string): Promise<string | null> {
  return fromStripe(deps, 'invoice lookup', requestId, async (stripe) => {
    const list = await stripe.invoices.list({ customer, limit: 1 }, { timeout: STRIPE_TIMEOUT_MS });
    return list.data[0]?.hosted_invoice_url ?? null;
  });
}

function billingPortalUrl(deps: SupportIntakeDeps, customer: string, requestId: string): Promise<string | null> {
  const returnUrl = deps.replyValues.billingPortalReturnUrl;
  return fromStripe(deps, 'billing portal session', requestId, (stripe) =>
    createBillingPortalUrl(stripe, {
      customer,
      returnUrl,
      idempotencyKey: `support:${requestId}:portal`,
      timeoutMs: STRIPE_TIMEOUT_MS,
    }),
  );
}

/** Starts the request's workflow unless an earlier delivery did; the answer waits for the start. */
/**
 * Requests recorded but never handed to their workflow (Temporal was down, or the process stopped in between),
 * quiet for `olderThanMs`, handed off again by the re-drive sweep; a start that already happened is not repeated.
 */
export async function redriveSupportRequests(deps: SupportIntakeDeps, olderThanMs: number): Promise<number> {
  const rows = await deps.db.query<StoredRequest>(
    `SELECT ${STORED_COLUMNS} FROM support_requests
      WHERE handed_off_at IS NULL AND created_at < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY created_at LIMIT 100`,
    [olderThanMs],
  );
  for (const row of rows) await handOff(deps, row, true);
  return rows.length;
}

async function handOff(deps: SupportIntakeDeps, row: StoredRequest, duplicate: boolean): Promise<SupportIntakeResult> {
  if (!row.handed_off_at) {
    const input: SupportWorkflowInput = {
      requestId: row.id,
      customerId: row.customer_id,
      conversationId: row.conversation_id,
      intent: row.intent,
      route: row.route,
    };
    try {
      await callTemporal(deps.temporal, 'support workflow start', () =>
        deps.temporal.workflow.start<typeof supportRequestWorkflow>('supportRequestWorkflow', {
          workflowId: supportWorkflowId(row.id),
          taskQueue: deps.taskQueue,
          args: [input],
          // A delivery that failed after the start, then came again, must not run the request a second time.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
    } catch (err) {
      // Started by an earlier delivery: that run handles the request.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await deps.db.query('UPDATE support_requests SET handed_off_at = now() WHERE id = $1 AND handed_off_at IS NULL', [
      row.id,
    ]);
  }
  return {
    requestId: row.id,
    intent: row.intent,
    route: row.route,
    deliveredVia: deliveredVia(row),
    ...(row.reply ? { reply: row.reply } : {}),
    duplicate,
  };
}
