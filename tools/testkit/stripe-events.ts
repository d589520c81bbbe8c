/**
 * Stripe events for tests, built from the real-shaped fixtures in test/fixtures/stripe (copied from
 * ../shared/fixtures), re-addressed to a test's own customer, subscription and times, and signed with
 * the real `stripe` library.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'stripe');

const FILES = {
  'checkout.session.completed': 'checkout.session.completed.subscription.2025-03-31.basil.json',
  'customer.subscription.created': 'customer.subscription.created.json',
  'customer.subscription.updated': 'customer.subscription.updated.renewal.2025-08-27.basil.json',
  'customer.subscription.deleted': 'customer.subscription.deleted.json',
  'customer.subscription.trial_will_end': 'customer.subscription.trial_will_end.json',
  'invoice.paid': 'invoice.paid.json',
  'invoice.payment_succeeded': 'invoice.payment_succeeded.2025-03-31.basil.json',
  'invoice.payment_failed': 'invoice.payment_failed.json',
  'charge.refunded': 'charge.refunded.full.json',
} as const;

export type FixtureType = keyof typeof FILES;

export interface StripeEventJson {
  id: string;
  object: 'event';
  type: string;
  created: number;
  api_version: string | null;
  livemode: boolean;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  [k: string]: unknown;
}

export function loadFixture(file: string): StripeEventJson {
  return JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as StripeEventJson;
}

let seq = 0;
const unique = (): string =>
  `${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export function uniqueCustomerId(): string {
  return `cus_T${unique()}`;
}

export interface MemberIds {
  customerId: string;
  subscriptionId: string;
}

export function newMember(): MemberIds {
  const u = unique();
  return { customerId: `cus_T${u}`, subscriptionId: `sub_T${u}` };
}

export interface EventOptions {
  /** epoch seconds; default: now, strictly increasing per call */
  created?: number;
  /** fields merged into data.object (shallow) */
  object?: Record<string, unknown>;
  id?: string;
}

let lastCreated = 0;
/** Strictly increasing `created` values, like Stripe's for a sequence of real events. */
export function nextCreated(): number {
  lastCreated = Math.max(lastCreated + 1, Math.floor(Date.now() / 1000));
  return lastCreated;
}

/** A fixture of `type`, re-addressed to the member. */
export function stripeEvent(
  type:
    FixtureType | 'customer.subscription.paused' | 'customer.subscription.resumed' | 'invoice.payment_action_required',
  m: MemberIds,
  opts: EventOptions = {},
): StripeEventJson {
  const base =
    type === 'customer.subscription.paused' || type === 'customer.subscription.resumed'
      ? loadFixture(FILES['customer.subscription.updated'])
      : type === 'invoice.payment_action_required'
        ? loadFixture(FILES['invoice.payment_failed'])
        : loadFixture(FILES[type]);
  const e: StripeEventJson = JSON.parse(JSON.stringify(base)) as StripeEventJson;
  e.id = opts.id ?? `evt_T${unique()}`;
  e.type = type;
  e.created = opts.created ?? nextCreated();
  const obj = e.data.object;
  if ('customer' in obj) obj['customer'] = m.customerId;
  if (obj['object'] === 'subscription') {
    obj['id'] = m.subscriptionId;
    const items = obj['items'] as { data?: Array<Record<string, unknown>> } | undefined;
    for (const item of items?.data ?? []) {
      item['subscription'] = m.subscriptionId;
      item['current_period_end'] = e.created + 30 * 86_400;
    }
    obj['cancel_at_period_end'] = false;
    obj['cancel_at'] = null;
    obj['canceled_at'] = null;
  }
  if (obj['object'] === 'checkout.session') obj['subscription'] = m.subscriptionId;
  if (obj['object'] === 'invoice') {
    obj['id'] = `in_T${unique()}`;
    const parent = obj['parent'] as { subscription_details?: { subscription?: string } } | undefined;
    if (parent?.subscription_details) parent.subscription_details.subscription = m.subscriptionId;
  }
  if (obj['object'] === 'charge') obj['id'] = `ch_T${unique()}`;
  Object.assign(obj, opts.object ?? {});
  return e;
}

export function sign(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

/** Where memberops receives Stripe's webhooks. */
export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/** The headers of a webhook delivery as Stripe sends it: a JSON body signed with the endpoint's secret. */
export function webhookHeaders(payload: string, secret: string, timestamp?: number): Record<string, string> {
  return { 'content-type': 'application/json', 'stripe-signature': sign(payload, secret, timestamp) };
}

export interface DeliveryOptions {
  /** The endpoint's signing secret. */
  secret: string;
  /** A signature to send instead of a valid one; `null` sends none. */
  signature?: string | null;
  /** Signing time in epoch seconds (a stale one tests the tolerance); default now. */
  timestamp?: number;
  /** Extra headers, e.g. Stripe's user agent. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Delivers a Stripe event to memberops' webhook endpoint at `baseUrl`, signed as Stripe signs it. */
export async function deliverStripeEvent(
  baseUrl: string,
  event: StripeEventJson | string,
  o: DeliveryOptions,
): Promise<Response> {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
  const signature = o.signature === undefined ? sign(payload, o.secret, o.timestamp) : o.signature;
  if (signature !== null) headers['stripe-signature'] = signature;
  return fetch(`${baseUrl}${STRIPE_WEBHOOK_PATH}`, {
    method: 'POST',
    headers,
    body: payload,
    ...(o.timeoutMs ? { signal: AbortSignal.timeout(o.timeoutMs) } : {}),
  });
}
