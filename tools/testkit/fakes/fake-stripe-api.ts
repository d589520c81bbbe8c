/**
 * A local stand-in for the slice of the Stripe API memberops calls, spoken to by the real `stripe` library:
 * form-encoded bodies, `Idempotency-Key` replay on POST (as Stripe's v1 API does), Stripe's error shape, and
 * fault injection so tests can prove that Temporal, not the library, owns retries. The HTTP and fault plumbing is the
 * shared scaffold; each resource lives in `stripe/`.
 */
import { dispatch, FakeHttpServer, htmlFault, type BaseFault, type Json, type Reply, type Vendor } from './scaffold';
import type { DownMode, RequestMatch } from './scaffold';
import { errorBody, StripeAccount, StripeApiError, token, type StripeEffect, type StripeRoute } from './stripe/account';
import { billingPortalRoutes } from './stripe/billing-portal';
import { chargeRoutes, seedCharge, type ChargeSeed } from './stripe/charges';
import { customerRoutes, seedCustomer, type CustomerSeed } from './stripe/customers';
import { emitEvent, eventRoutes } from './stripe/events';
import { seedPopulation, type PopulationMember } from './stripe/population';
import { decodeStripeForm } from './stripe/form';
import { invoiceRoutes, seedInvoice, type InvoiceSeed } from './stripe/invoices';
import { seedSubscription, subscriptionRoutes, type SubscriptionSeed } from './stripe/subscriptions';
import { seedWebhookEndpoint, webhookEndpointRoutes, type WebhookEndpointSeed } from './stripe/webhook-endpoints';

export { decodeStripeForm } from './stripe/form';
export type { StripeEffect } from './stripe/account';
export type { WebhookEndpointSeed } from './stripe/webhook-endpoints';
export type StripeRequestMatch = RequestMatch;
export type StripeDownMode = DownMode;
export type { PopulationMember } from './stripe/population';

export type StripeFaultStatus = 400 | 401 | 402 | 404 | 409 | 429 | 500 | 502 | 503;
export interface StripeFault extends BaseFault {
  status: StripeFaultStatus;
  /** Sets `Retry-After` (Stripe itself rarely sends it; the classifier must cope either way). */
  retryAfterSeconds?: number;
  /** Overrides the error `code` in the body. */
  code?: string;
  /** Sets `Stripe-Should-Retry`, the header Stripe uses to advise clients. */
  shouldRetry?: boolean;
  /** Answer 502/503 with an HTML page, as an edge proxy does; stripe-node then reports no status code. */
  html?: boolean;
}

export interface StripeCall {
  method: string;
  path: string;
  query: string;
  /** 0 when the connection was reset instead of answered. */
  status: number;
  idempotencyKey: string | undefined;
  params: Record<string, unknown>;
  authorization: string | undefined;
  stripeVersion: string | undefined;
  requestId: string;
  /** True when the answer was a replay of an earlier request with the same idempotency key. */
  replayed: boolean;
  at: number;
}
export interface FakeStripeApiOptions {
  /** When set, only `Authorization: Bearer <secretKey>` is accepted; otherwise any `sk_test_`/`rk_test_` key. */
  secretKey?: string;
  /**
   * Also replay DELETE requests by idempotency key. Stripe does NOT: its docs say keys on GET and DELETE have no
   * effect, and a second cancel of a canceled subscription answers 404 `resource_missing`. Off by default.
   */
  replayDeleteIdempotency?: boolean;
}

export interface FakeStripeApi {
  /** `http://127.0.0.1:PORT`, for `createStripeClient({ apiBase })`. */
  readonly baseUrl: string;
  readonly calls: StripeCall[];
  readonly effects: StripeEffect[];
  seedSubscription(s: SubscriptionSeed): void;
  seedCharge(c: ChargeSeed): void;
  seedInvoice(i: InvoiceSeed): void;
  /** Adds a webhook endpoint to the account (`GET /v1/webhook_endpoints`); returns its id. */
  seedWebhookEndpoint(e: WebhookEndpointSeed): string;
  seedCustomer(c: CustomerSeed): void;
  /** `n` customers with a mix of subscription states; returns what Stripe says of each (newest first). */
  seedPopulation(n: number, opts?: { prefix?: string }): PopulationMember[];
  /** Records an event for `events.list` (not delivered anywhere: tests post it to the webhook, or drop it). */
  emitEvent(type: string, object: Record<string, unknown>, opts?: { created?: number }): Record<string, unknown>;
  customer(id: string): Record<string, unknown> | undefined;
  subscription(id: string): Record<string, unknown> | undefined;
  /** Cancellations that took effect (replays and rejected repeats do not count). */
  cancelCalls(subscriptionId: string): number;
  /** Every request that reached the server, optionally filtered. */
  rawCalls(method?: string, path?: RegExp): number;
  fail(fault: StripeFault): void;
  /** Holds matching responses back by `ms` after the request has taken effect (the lost-response case). */
  delay(ms: number, opts?: { times?: number; match?: StripeRequestMatch }): void;
  down(mode?: StripeDownMode): Promise<void>;
  up(): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const SERVER_ERROR = "Sorry, something went wrong. We've already been notified of the problem.";
const FAULT_SHAPES: Record<StripeFaultStatus, [string, string, string | undefined]> = {
  400: ['invalid_request_error', 'Invalid request.', 'parameter_invalid_empty'],
  401: ['invalid_request_error', 'Invalid API Key provided: sk_test_********************fake', undefined],
  402: ['card_error', 'Your card was declined.', 'card_declined'],
  404: ['invalid_request_error', 'No such resource.', 'resource_missing'],
  409: [
    'invalid_request_error',
    'This object cannot be accessed right now because another API request or Stripe process is currently accessing it.',
    'lock_timeout',
  ],
  429: [
    'invalid_request_error',
    'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
    'rate_limit',
  ],
  500: ['api_error', SERVER_ERROR, undefined],
  502: ['api_error', SERVER_ERROR, undefined],
  503: ['api_error', SERVER_ERROR, undefined],
};

function faultReply(f: StripeFault | { status: 503 }, headers: Record<string, string>): Reply {
  const extra: Partial<StripeFault> = f;
  if (extra.retryAfterSeconds !== undefined) headers['Retry-After'] = String(extra.retryAfterSeconds);
  if (extra.shouldRetry !== undefined) headers['Stripe-Should-Retry'] = String(extra.shouldRetry);
  const page = htmlFault(f, headers);
  if (page) return page;
  const [type, message, code] = FAULT_SHAPES[f.status];
  return { status: f.status, body: errorBody(new StripeApiError(f.status, type, message, extra.code ?? code)) };
}

export async function startFakeStripeApi(opts: FakeStripeApiOptions = {}): Promise<FakeStripeApi> {
  const acct = new StripeAccount();
  let idempotency = new Map<string, { fingerprint: string; reply: Reply }>();
  const routes: StripeRoute[] = [
    ...subscriptionRoutes(acct),
    ...billingPortalRoutes(acct),
    ...chargeRoutes(acct),
    ...invoiceRoutes(acct),
    ...webhookEndpointRoutes(acct),
    ...customerRoutes(acct),
    ...eventRoutes(acct),
  ];

  function route(method: string, path: string, body: Json, query: Json): Reply {
    const message = `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`;
    return dispatch(
      routes,
      { method, path, body, query },
      {
        onError: (err) => (err instanceof StripeApiError ? { status: err.status, body: errorBody(err) } : undefined),
        bug: (err) => ({
          status: 500,
          body: errorBody(new StripeApiError(500, 'api_error', `fake stripe bug: ${String(err)}`)),
        }),
        notFound: () => ({ status: 404, body: errorBody(new StripeApiError(404, 'invalid_request_error', message)) }),
      },
    );
  }
  function authFailure(authorization: string | undefined): string | undefined {
    const key = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
    if (!key)
      return 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.';
    const accepted = opts.secretKey ? key === opts.secretKey : /^(sk|rk)_test_\w+$/.test(key);
    return accepted
      ? undefined
      : `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
  }

  const vendor: Vendor<StripeFault, StripeCall> = {
    record(req) {
      const call: StripeCall = {
        method: req.method,
        path: req.path,
        query: req.url.search,
        status: 0,
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        params: { ...decodeStripeForm(req.url.search.slice(1)), ...decodeStripeForm(req.raw) },
        authorization: req.headers.authorization,
        stripeVersion: req.headers['stripe-version'] as string | undefined,
        requestId: `req_${token(14)}`,
        replayed: false,
        at: Date.now(),
      };
      return call;
    },
    headers: (_req, call) => ({
      'Content-Type': 'application/json',
      'Request-Id': call.requestId,
      'Stripe-Version': call.stripeVersion ?? '2026-10-28.endive',
      ...(call.idempotencyKey ? { 'Idempotency-Key': call.idempotencyKey } : {}),
    }),
    faultReply: (f, headers) => faultReply(f, headers),
    answer(req, headers, call): Reply {
      const { method, path, idempotencyKey } = call;
      const authError = authFailure(req.headers.authorization);
      const keyed = idempotencyKey && (method === 'POST' || (method === 'DELETE' && opts.replayDeleteIdempotency));
      // Stripe scopes keys to the account (here: the API key) and compares the replay's parameters with the original's.
      const slot = `${req.headers.authorization} ${idempotencyKey}`;
      const fingerprint = JSON.stringify([method, path, call.params]);
      const saved = keyed ? idempotency.get(slot) : undefined;
      if (authError) {
        return { status: 401, body: errorBody(new StripeApiError(401, 'invalid_request_error', authError)) };
      }
      if (saved && saved.fingerprint !== fingerprint) {
        const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`;
        return { status: 400, body: errorBody(new StripeApiError(400, 'idempotency_error', message)) };
      }
      if (saved) {
        call.replayed = true;
        headers['Idempotent-Replayed'] = 'true';
        return saved.reply;
      }
      const reply = route(method, path, decodeStripeForm(req.raw), decodeStripeForm(req.url.search.slice(1)));
      // Stripe saves a result once the endpoint has started executing; parameter validation failures (400) are not saved.
      if (keyed && reply.status !== 400) idempotency.set(slot, { fingerprint, reply: structuredClone(reply) });
      return reply;
    },
  };
  const server = await FakeHttpServer.start(vendor);

  return {
    baseUrl: server.baseUrl,
    calls: server.calls,
    effects: acct.effects,
    seedSubscription: (s) => seedSubscription(acct, s),
    seedCharge: (c) => seedCharge(acct, c),
    seedInvoice: (i) => seedInvoice(acct, i),
    seedWebhookEndpoint: (e) => seedWebhookEndpoint(acct, e),
    seedCustomer: (c) => seedCustomer(acct, c),
    seedPopulation: (n, o) => seedPopulation(acct, n, o),
    emitEvent: (type, object, o) => emitEvent(acct, type, object, o),
    customer: (id) => acct.customers.get(id),
    subscription: (id) => acct.subscriptions.get(id),
    cancelCalls: (id) => acct.effects.filter((e) => e.kind === 'subscription.canceled' && e.id === id).length,
    rawCalls: (method, path) =>
      server.calls.filter((c) => (!method || c.method === method.toUpperCase()) && (!path || path.test(c.path))).length,
    ...server.controls(),
    async reset() {
      acct.clear();
      idempotency = new Map();
      await server.reset();
    },
  };
}
