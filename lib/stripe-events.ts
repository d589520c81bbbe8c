/**
 * Turns a verified Stripe event into the compact MemberEvent the workflow needs. Pure.
 * Shapes follow the API version stripe-node 23 was written for, with fallbacks for older versions
 * (e.g. `invoice.subscription` before basil moved it to `invoice.parent.subscription_details`).
 */
import Stripe from 'stripe';
import { z } from 'zod';
import { HANDLED_EVENT_TYPES, type HandledEventType, type MemberEvent } from '../workflows/messages';

/** The API version the code and tests were written for (stripe-node 23's pinned version). */
export const EXPECTED_STRIPE_API_VERSION: string = Stripe.API_VERSION;

const id = z.string().min(1).max(255);
/** A reference that is an id or an expanded object with an id. */
const ref = z.union([id, z.object({ id }).loose().transform((o) => o.id)]);
const epoch = z.number().int().nonnegative();

/**
 * What makes a verified body a Stripe event memberops can keep: its id, type and time. Anything short of this is not an
 * event (400); anything beyond it that memberops cannot read is kept and set aside (see `readStripeEvent`).
 */
export const stripeEventIdentity = z
  .object({
    id: id.regex(/^evt_/, 'is not an event id'),
    object: z.literal('event'),
    type: z.string().min(1).max(255),
    created: epoch,
    api_version: z.string().max(64).nullish().catch(null),
    livemode: z.boolean().optional().catch(undefined),
  })
  .loose();
export type StripeEventIdentity = z.infer<typeof stripeEventIdentity>;

export const stripeEventEnvelope = stripeEventIdentity
  .extend({ data: z.object({ object: z.record(z.string(), z.unknown()) }).loose() })
  .loose();
export type StripeEventEnvelope = z.infer<typeof stripeEventEnvelope>;

const subscriptionSchema = z
  .object({
    id,
    customer: ref,
    status: z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused']),
    cancel_at_period_end: z.boolean().optional(),
    cancel_at: epoch.nullish(),
    trial_end: epoch.nullish(),
    current_period_end: epoch.nullish(),
    items: z
      .object({ data: z.array(z.object({ current_period_end: epoch.nullish() }).loose()) })
      .loose()
      .optional(),
  })
  .loose();

const invoiceSchema = z
  .object({
    id,
    customer: ref.nullish(),
    customer_email: z.string().nullish(),
    hosted_invoice_url: z.string().nullish(),
    attempt_count: z.number().int().optional(),
    billing_reason: z.string().nullish(),
    amount_paid: z.number().int().optional(),
    subscription: ref.nullish(),
    parent: z
      .object({ subscription_details: z.object({ subscription: ref.nullish() }).loose().nullish() })
      .loose()
      .nullish(),
    last_finalization_error: z.object({ code: z.string().nullish() }).loose().nullish(),
  })
  .loose();

const checkoutSchema = z
  .object({
    id,
    customer: ref.nullish(),
    subscription: ref.nullish(),
    client_reference_id: z.string().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    customer_email: z.string().nullish(),
    customer_details: z.object({ email: z.string().nullish() }).loose().nullish(),
    payment_status: z.string().nullish(),
    mode: z.string().nullish(),
  })
  .loose();

const chargeSchema = z
  .object({
    id,
    customer: ref.nullish(),
    amount: z.number().int(),
    amount_captured: z.number().int().optional(),
    amount_refunded: z.number().int(),
    refunded: z.boolean().optional(),
    billing_details: z.object({ email: z.string().nullish() }).loose().nullish(),
    failure_code: z.string().nullish(),
  })
  .loose();

const disputeSchema = z.object({ id, charge: ref, reason: z.string().nullish() }).loose();

export type Normalized =
  | { kind: 'member'; event: MemberEvent }
  /** Handled type, but no customer on the object: a dispute names only its charge. */
  | { kind: 'needs_charge_lookup'; chargeId: string; partial: Omit<MemberEvent, 'customerId'> }
  | { kind: 'unlinked'; reason: string }
  | { kind: 'unhandled' };

export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MalformedEventError(`${what}: ${issue?.path.join('.') || '(object)'} ${issue?.message ?? 'is invalid'}`);
  }
  return r.data;
}

export function isHandledType(type: string): type is HandledEventType {
  return (HANDLED_EVENT_TYPES as readonly string[]).includes(type);
}

type Base = Pick<MemberEvent, 'eventId' | 'type' | 'created' | 'apiVersion'>;
type ObjectMapper = (base: Base, obj: unknown) => Normalized;

const fromSubscription: ObjectMapper = (base, obj) => {
  const s = parse(subscriptionSchema, obj, 'subscription');
  // Since basil, periods live on subscription items; older versions have them on the subscription.
  const itemEnds = (s.items?.data ?? []).map((i) => i.current_period_end ?? 0).filter((n) => n > 0);
  const currentPeriodEnd = itemEnds.length ? Math.max(...itemEnds) : (s.current_period_end ?? null);
  return {
    kind: 'member',
    event: {
      ...base,
      customerId: s.customer,
      objectId: s.id,
      subscriptionId: s.id,
      subscriptionStatus: s.status,
      cancelAtPeriodEnd: s.cancel_at_period_end ?? false,
      cancelAt: s.cancel_at ?? null,
      currentPeriodEnd,
      trialEnd: s.trial_end ?? null,
    },
  };
};

const fromInvoice: ObjectMapper = (base, obj) => {
  const i = parse(invoiceSchema, obj, 'invoice');
  if (!i.customer) return { kind: 'unlinked', reason: 'invoice without customer' };
  return {
    kind: 'member',
    event: {
      ...base,
      customerId: i.customer,
      objectId: i.id,
      invoiceId: i.id,
      subscriptionId: i.parent?.subscription_details?.subscription ?? i.subscription ?? undefined,
      hostedInvoiceUrl: i.hosted_invoice_url ?? null,
      attemptCount: i.attempt_count,
      billingReason: i.billing_reason ?? null,
      amountPaid: i.amount_paid,
      failureReason: i.last_finalization_error?.code ?? null,
      email: i.customer_email ?? null,
    },
  };
};

const fromCheckout: ObjectMapper = (base, obj) => {
  const c = parse(checkoutSchema, obj, 'checkout session');
  if (!c.customer) return { kind: 'unlinked', reason: 'checkout session without customer (one-off guest payment)' };
  return {
    kind: 'member',
    event: {
      ...base,
      customerId: c.customer,
      objectId: c.id,
      subscriptionId: c.subscription ?? undefined,
      paymentStatus: c.payment_status ?? null,
      appUserId: c.client_reference_id ?? c.metadata?.member_id ?? null,
      email: c.customer_details?.email ?? c.customer_email ?? null,
    },
  };
};

const fromCharge: ObjectMapper = (base, obj) => {
  const c = parse(chargeSchema, obj, 'charge');
  if (!c.customer) return { kind: 'unlinked', reason: 'charge without customer' };
  const captured = c.amount_captured ?? c.amount;
  return {
    kind: 'member',
    event: {
      ...base,
      customerId: c.customer,
      objectId: c.id,
      amountRefunded: c.amount_refunded,
      amountCaptured: captured,
      fullyRefunded: c.refunded === true || (captured > 0 && c.amount_refunded >= captured),
    },
  };
};

const fromDispute: ObjectMapper = (base, obj) => {
  const d = parse(disputeSchema, obj, 'dispute');
  return {
    kind: 'needs_charge_lookup',
    chargeId: d.charge,
    partial: { ...base, objectId: d.id, disputeReason: d.reason ?? null },
  };
};

const MAPPERS: Record<HandledEventType, ObjectMapper> = {
  'checkout.session.completed': fromCheckout,
  'customer.subscription.created': fromSubscription,
  'customer.subscription.updated': fromSubscription,
  'customer.subscription.deleted': fromSubscription,
  'customer.subscription.paused': fromSubscription,
  'customer.subscription.resumed': fromSubscription,
  'customer.subscription.trial_will_end': fromSubscription,
  'invoice.paid': fromInvoice,
  'invoice.payment_succeeded': fromInvoice,
  'invoice.payment_failed': fromInvoice,
  'invoice.payment_action_required': fromInvoice,
  'charge.refunded': fromCharge,
  'charge.dispute.created': fromDispute,
};

/** Maps a verified event; throws MalformedEventError when a handled event's object lacks what we need. */
export function normalizeStripeEvent(event: StripeEventEnvelope): Normalized {
  if (!isHandledType(event.type)) return { kind: 'unhandled' };
  const base: Base = { eventId: event.id, type: event.type, created: event.created, apiVersion: event.api_version ?? null };
  return MAPPERS[event.type](base, event.data.object);
}

/** What a verified event is to memberops: normalized, or unreadable with the reason (it is then set aside, never lost). */
export type ReadEvent = Normalized | { kind: 'unreadable'; reason: string };

/** Reads a verified event's details. Pure, never throws: a shape memberops does not know becomes `unreadable`. */
export function readStripeEvent(event: StripeEventIdentity): ReadEvent {
  const envelope = stripeEventEnvelope.safeParse(event);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return { kind: 'unreadable', reason: `event ${issue?.path.join('.') || '(envelope)'}: ${issue?.message ?? 'invalid'}` };
  }
  try {
    return normalizeStripeEvent(envelope.data);
  } catch (err) {
    if (err instanceof MalformedEventError) return { kind: 'unreadable', reason: err.message };
    throw err;
  }
}

function dataObject(event: StripeEventIdentity): Record<string, unknown> {
  const data = (event as { data?: unknown }).data;
  const obj = data && typeof data === 'object' ? (data as { object?: unknown }).object : undefined;
  return obj && typeof obj === 'object' ? (obj as Record<string, unknown>) : {};
}

/** The customer an event names, if any, for the event log (also for types we do not handle or cannot read). */
export function customerOf(event: StripeEventIdentity): string | null {
  const c = dataObject(event)['customer'];
  const value = typeof c === 'string' ? c : c && typeof c === 'object' ? (c as { id?: unknown }).id : undefined;
  return typeof value === 'string' && value.length <= 255 ? value : null;
}

export function objectIdOf(event: StripeEventIdentity): string | null {
  const v = dataObject(event)['id'];
  return typeof v === 'string' && v.length <= 255 ? v : null;
}
