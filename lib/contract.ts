/**
 * The API's answers to the app, as zod schemas: the routes build their answers with them and the typed client
 * (`client/`) parses with them, so the two cannot drift. Depends on zod and the dependency-free vocabulary only,
 * because the client ships inside the app (a Next.js server, its middleware).
 */
import { z } from 'zod';
import { MEMBERSHIP_STATUSES, SUPPORT_INTENTS, SUPPORT_ROUTES } from '../workflows/vocabulary';

/** Stripe ids and typical app user ids (uuid, numeric, slug, email-like); anything else is refused with 400. */
export const memberIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,254}$/, 'is not a valid member id');

export const membershipStatusSchema = z.enum(MEMBERSHIP_STATUSES);
const isoTime = z.string();

/** GET /members/:id/access (200, and the 404 of an unknown member with status `none`). */
export const accessAnswerSchema = z.object({
  memberId: z.string(),
  status: membershipStatusSchema,
  allowed: z.boolean(),
  /** Why, in words the app may show the member (the billing page explains a block with it). */
  reason: z.string(),
});
export type AccessAnswer = z.infer<typeof accessAnswerSchema>;

export const transitionSchema = z.object({
  from: membershipStatusSchema,
  to: membershipStatusSchema,
  at: isoTime,
  cause: z.union([
    z.object({ kind: z.literal('event'), eventId: z.string(), eventType: z.string() }),
    z.object({ kind: z.literal('timer'), timer: z.string() }),
    z.object({ kind: z.literal('snapshot'), snapshotId: z.string() }),
  ]),
});

export const noticeSchema = z.object({
  key: z.string(),
  kind: z.string(),
  channel: z.string(),
  status: z.string(),
  sentAt: isoTime.nullable(),
});

/**
 * GET /members/:id: the canonical membership, its transitions and notices. Loose: features add sections (crm,
 * support) that the client passes through untyped.
 */
export const memberAnswerSchema = z
  .object({
    memberId: z.string(),
    customerId: z.string(),
    appUserId: z.string().nullable(),
    email: z.string().nullable(),
    status: membershipStatusSchema,
    allowed: z.boolean(),
    reason: z.string(),
    subscriptionId: z.string().nullable(),
    subscriptionStatus: z.string().nullable(),
    cancelAtPeriodEnd: z.boolean(),
    currentPeriodEnd: isoTime.nullable(),
    trialEnd: isoTime.nullable(),
    disputed: z.boolean(),
    latestInvoiceUrl: z.string().nullable(),
    dunning: z.object({ cycleStartedAt: isoTime, graceEndsAt: isoTime, cancelsAt: isoTime }).loose().nullable(),
    version: z.number(),
    updatedAt: isoTime.nullable(),
    transitions: z.array(transitionSchema),
    notices: z.array(noticeSchema),
  })
  .loose();
export type MemberAnswer = z.infer<typeof memberAnswerSchema>;

/** GET /members/:id/messenger: boot the Intercom Messenger with `intercom_user_jwt: token` (identity verified). */
export const messengerAnswerSchema = z.object({
  appId: z.string(),
  userId: z.string(),
  email: z.string().nullable(),
  /** HS256 JWT with `user_id` (and `email`), valid for at most an hour. */
  token: z.string(),
});
export type MessengerAnswer = z.infer<typeof messengerAnswerSchema>;

/** POST /support/requests body. */
export const supportRequestSchema = z.object({
  memberId: memberIdSchema.optional(),
  email: z.email('is not a valid email address').max(320).optional(),
  subject: z.string().trim().max(500, 'is longer than 500 characters').optional(),
  body: z.string({ error: 'is required' }).trim().min(1, 'is required').max(10_000, 'is longer than 10,000 characters'),
});
export type SupportRequest = z.input<typeof supportRequestSchema>;

export const DELIVERED_VIA = ['intercom_conversation', 'member_channel', 'person', 'response'] as const;
/** Where the reply went: the conversation, the member's channel (MemberMessenger), a person, or this answer. */
export type DeliveredVia = (typeof DELIVERED_VIA)[number];

/** POST /support/requests answer (202): what happened; the reply itself only when it is about nobody. */
export const supportAnswerSchema = z.object({
  requestId: z.string(),
  intent: z.enum(SUPPORT_INTENTS),
  route: z.enum(SUPPORT_ROUTES),
  deliveredVia: z.enum(DELIVERED_VIA),
  reply: z.string().optional(),
});
export type SupportAnswer = z.infer<typeof supportAnswerSchema>;

/** Every error answer: a machine-readable `error` and, mostly, a `message`. */
export const errorAnswerSchema = z.object({ error: z.string(), message: z.string().optional() }).loose();

/** POST /members/:id/billing-portal body: where Stripe sends the member back (default BILLING_PORTAL_RETURN_URL). */
export const billingPortalRequestSchema = z.object({
  returnUrl: z.url({ protocol: /^https?$/, error: 'is not an http(s) URL' }).max(2048).optional(),
});
export type BillingPortalRequest = z.input<typeof billingPortalRequestSchema>;

/** POST /members/:id/billing-portal answer: a one-off Stripe Billing Portal session for this member. */
export const billingPortalAnswerSchema = z.object({
  memberId: z.string(),
  url: z.url(),
});
export type BillingPortalAnswer = z.infer<typeof billingPortalAnswerSchema>;
