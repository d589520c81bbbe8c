/** Stripe webhook endpoints: listed (newest first, paginated with `starting_after`) and retrieved, as the doctor reads them. */
import { now } from '../scaffold';
import { retrieve, token, type StripeAccount, type StripeRoute } from './account';
import { listPage, newestFirst } from './lists';

export interface WebhookEndpointSeed {
  url: string;
  enabled_events: string[];
  /** null: the endpoint uses the account's default API version (not pinned). */
  api_version: string | null;
  status?: 'enabled' | 'disabled';
  id?: string;
}

export function webhookEndpointRoutes(acct: StripeAccount): StripeRoute[] {
  return [
    ['GET', /^\/v1\/webhook_endpoints\/(?<id>[^/]+)$/, retrieve('webhook endpoint', () => acct.webhookEndpoints)],
    [
      'GET',
      /^\/v1\/webhook_endpoints$/,
      (_p, _b, q) => ({
        status: 200,
        body: listPage(newestFirst(acct.webhookEndpoints.values()), q, '/v1/webhook_endpoints', 'webhook endpoint'),
      }),
    ],
  ];
}

export function seedWebhookEndpoint(acct: StripeAccount, e: WebhookEndpointSeed): string {
  const id = e.id ?? `we_${token(24)}`;
  acct.webhookEndpoints.set(id, {
    id,
    object: 'webhook_endpoint',
    api_version: e.api_version,
    application: null,
    created: now(),
    description: null,
    enabled_events: e.enabled_events,
    livemode: false,
    metadata: {},
    status: e.status ?? 'enabled',
    url: e.url,
  });
  return id;
}
