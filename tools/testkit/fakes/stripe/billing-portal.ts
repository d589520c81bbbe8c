/** Stripe Billing Portal sessions: a one-off url where the member manages their own subscription. */
import { now } from '../scaffold';
import { checkParams, StripeApiError, token, type StripeAccount, type StripeRoute } from './account';

export function billingPortalRoutes(acct: StripeAccount): StripeRoute[] {
  return [
    [
      'POST',
      /^\/v1\/billing_portal\/sessions$/,
      (_p, b) => {
        checkParams(b, ['customer', 'return_url', 'configuration', 'flow_data', 'locale', 'on_behalf_of', 'expand']);
        if (typeof b.customer !== 'string' || b.customer === '') {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'Missing required param: customer.',
            'parameter_missing',
            'customer',
          );
        }
        const id = `bps_${token(24)}`;
        acct.effect('billing_portal.session.created', id);
        return {
          status: 200,
          body: {
            id,
            object: 'billing_portal.session',
            configuration: 'bpc_fake',
            created: now(),
            customer: b.customer,
            customer_account: null,
            flow: null,
            livemode: false,
            locale: b.locale ?? null,
            on_behalf_of: null,
            return_url: b.return_url ?? null,
            url: `https://billing.stripe.com/p/session/test_${token(40)}`,
          },
        };
      },
    ],
  ];
}
