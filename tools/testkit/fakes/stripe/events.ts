/** Stripe events: listed newest first with `created` bounds and `type` / `types[]`, retrieved by id, and emitted by tests. */
import { now, type Json } from '../scaffold';
import { retrieve, StripeApiError, token, type StripeAccount, type StripeRoute } from './account';
import { listPage, matchesCreated, newestFirst } from './lists';

export function eventRoutes(acct: StripeAccount): StripeRoute[] {
  return [
    [
      'GET',
      /^\/v1\/events\/(?<id>[^/]+)$/,
      retrieve('event', () => new Map(acct.events.map((e) => [String(e.id), e]))),
    ],
    [
      'GET',
      /^\/v1\/events$/,
      (_p, _b, q) => {
        if (q.type !== undefined && q.types !== undefined) {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'You may only specify one of these parameters: type, types.',
          );
        }
        const types = Array.isArray(q.types) ? q.types.map(String) : undefined;
        if (types && types.length > 20) {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'types: at most 20 values',
            'parameter_invalid',
            'types',
          );
        }
        const found = newestFirst(
          acct.events.filter(
            (e) =>
              (q.type === undefined || matchType(String(q.type), String(e.type))) &&
              (!types || types.includes(String(e.type))) &&
              matchesCreated(q, Number(e.created)),
          ),
        );
        return { status: 200, body: listPage(found, q, '/v1/events', 'event') };
      },
    ],
  ];
}

/** `type` may end in `.*` (e.g. `customer.subscription.*`). */
const matchType = (pattern: string, type: string): boolean =>
  pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;

/** Records an event about a snapshot of `object`, as Stripe does when the object changes; returns it. */
export function emitEvent(
  acct: StripeAccount,
  type: string,
  object: Json,
  opts: { created?: number; apiVersion?: string } = {},
): Json {
  const event: Json = {
    id: `evt_${token(24)}`,
    object: 'event',
    api_version: opts.apiVersion ?? '2026-10-28.endive',
    created: opts.created ?? now(),
    data: { object: structuredClone(object) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  acct.events.push(event);
  return event;
}
