/**
 * The Stripe webhook endpoint of this host, read through Stripe's webhook endpoints API: it exists, is enabled,
 * receives every event type memberops handles and pins the API version memberops is written for.
 */
import type Stripe from 'stripe';
import { HANDLED_EVENT_TYPES } from '../../workflows/messages';
import { COUNTED_EVENT_TYPES } from '../../lib/process-stripe-event';
import { EXPECTED_STRIPE_API_VERSION } from '../../lib/stripe-events';
import { fail, ok, reason, skip, type CheckResult } from './check';

const DASHBOARD = 'Stripe Dashboard → Developers → Webhooks';

/** What the endpoint must send: the events that move member state, and those counted for the checkout figures. */
export const REQUIRED_EVENT_TYPES: readonly string[] = [...HANDLED_EVENT_TYPES, ...COUNTED_EVENT_TYPES];

/** The URL Stripe must deliver to: the webhook route under PUBLIC_URL. */
export function webhookUrl(publicUrl: string): string {
  return new URL('webhooks/stripe', publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`).href;
}

export async function stripeEndpointChecks(
  stripe: Stripe | undefined,
  publicUrl: string | undefined,
): Promise<CheckResult[]> {
  const ids = ['stripe.endpoint.enabled', 'stripe.endpoint.events', 'stripe.endpoint.api_version'];
  const rest = (why: string): CheckResult[] => ids.map((id) => skip(id, why));
  if (!publicUrl) {
    return [
      fail(
        'stripe.endpoint',
        'PUBLIC_URL is not set, so the endpoint of this host cannot be found',
        'Set PUBLIC_URL to the https base URL Stripe reaches this deployment at.',
      ),
      ...rest('no endpoint to check'),
    ];
  }
  const url = webhookUrl(publicUrl);
  if (!stripe)
    return [
      fail(
        'stripe.endpoint',
        `cannot list endpoints without STRIPE_SECRET_KEY (looking for ${url})`,
        'Set STRIPE_SECRET_KEY.',
      ),
      ...rest('no endpoint to check'),
    ];
  let endpoints: Stripe.WebhookEndpoint[];
  try {
    endpoints = await stripe.webhookEndpoints.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
  } catch (err) {
    return [
      fail(
        'stripe.endpoint',
        `Stripe refused to list webhook endpoints: ${reason(err)}`,
        'Check STRIPE_SECRET_KEY (a restricted key needs read access to Webhook Endpoints).',
      ),
      ...rest('no endpoint to check'),
    ];
  }
  const mine = endpoints.filter((e) => e.url === url);
  // Several endpoints for one URL deliver every event several times; the enabled one is the one that matters.
  const endpoint = mine.find((e) => e.status === 'enabled') ?? mine[0];
  if (!endpoint) {
    const others = endpoints.length
      ? ` (the account has ${endpoints.length} other: ${endpoints
          .map((e) => e.url)
          .slice(0, 3)
          .join(', ')})`
      : '';
    return [
      fail(
        'stripe.endpoint',
        `no webhook endpoint for ${url}${others}`,
        `In the ${DASHBOARD}, add the endpoint ${url} (README, "Connecting Stripe").`,
      ),
      ...rest('no endpoint to check'),
    ];
  }
  const results: CheckResult[] = [
    ok(
      'stripe.endpoint',
      `${endpoint.id} delivers to ${url}${mine.length > 1 ? ` (${mine.length} endpoints share this URL: events arrive more than once)` : ''}`,
    ),
  ];
  results.push(
    endpoint.status === 'enabled'
      ? ok('stripe.endpoint.enabled', 'enabled')
      : fail(
          'stripe.endpoint.enabled',
          `the endpoint is ${endpoint.status}: Stripe sends it nothing`,
          `Enable it in the ${DASHBOARD} (… → Enable).`,
        ),
  );
  const subscribed = new Set(endpoint.enabled_events);
  const missing = subscribed.has('*') ? [] : REQUIRED_EVENT_TYPES.filter((t) => !subscribed.has(t));
  results.push(
    missing.length === 0
      ? ok(
          'stripe.endpoint.events',
          subscribed.has('*')
            ? 'receives every event type (*)'
            : `receives all ${REQUIRED_EVENT_TYPES.length} event types memberops handles or counts`,
        )
      : fail(
          'stripe.endpoint.events',
          `does not receive ${missing.join(', ')}`,
          `In the ${DASHBOARD} → your endpoint → Select events, add: ${missing.join(', ')}.`,
        ),
  );
  results.push(
    endpoint.api_version === EXPECTED_STRIPE_API_VERSION
      ? ok('stripe.endpoint.api_version', `pinned to ${EXPECTED_STRIPE_API_VERSION}`)
      : fail(
          'stripe.endpoint.api_version',
          endpoint.api_version
            ? `pinned to ${endpoint.api_version}, memberops expects ${EXPECTED_STRIPE_API_VERSION}`
            : `not pinned (the account's default version applies), memberops expects ${EXPECTED_STRIPE_API_VERSION}`,
          `The version of an endpoint cannot be changed: create a new endpoint for ${url} with API version ${EXPECTED_STRIPE_API_VERSION}, move STRIPE_WEBHOOK_SECRET to its secret, then delete the old one.`,
        ),
  );
  return results;
}
