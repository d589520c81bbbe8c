/** Stripe charges: retrieved by id (refund events name a charge, and the charge names the customer). */
import { now } from '../scaffold';
import { retrieve, token, type StripeAccount, type StripeRoute } from './account';

export interface ChargeSeed {
  id: string;
  customer: string | null;
  amount?: number;
  currency?: string;
}

export function chargeRoutes(acct: StripeAccount): StripeRoute[] {
  return [['GET', /^\/v1\/charges\/(?<id>[^/]+)$/, retrieve('charge', () => acct.charges)]];
}

export function seedCharge(acct: StripeAccount, c: ChargeSeed): void {
  acct.charges.set(c.id, {
    id: c.id,
    object: 'charge',
    amount: c.amount ?? 1500,
    amount_captured: c.amount ?? 1500,
    amount_refunded: 0,
    captured: true,
    created: now(),
    currency: c.currency ?? 'usd',
    customer: c.customer,
    description: null,
    disputed: false,
    livemode: false,
    metadata: {},
    paid: true,
    payment_intent: `pi_${token(14)}`,
    refunded: false,
    status: 'succeeded',
  });
}
