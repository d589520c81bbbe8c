/**
 * A local stand-in for the slice of the Stripe API memberops calls, spoken to by the real `stripe` library:
 * form-encoded bodies, `Idempotency-Key` replay on POST (as Stripe's v1 API does), Stripe's error shape, and
 * fault injection so tests can prove that Temporal, not the library, owns retries.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type StripeFaultStatus = 400 | 401 | 402 | 404 | 409 | 429 | 500 | 502 | 503;
export interface StripeRequestMatch {
  method?: string;
  path?: RegExp;
}
export interface StripeFault {
  status: StripeFaultStatus;
  /** How many matching requests fail; default 1. */
  times?: number;
  match?: StripeRequestMatch;
  /** Sets `Retry-After` (Stripe itself rarely sends it; the classifier must cope either way). */
  retryAfterSeconds?: number;
  /** Overrides the error `code` in the body. */
  code?: string;
  /** Sets `Stripe-Should-Retry`, the header Stripe uses to advise clients. */
  shouldRetry?: boolean;
  /** Answer 502/503 with an HTML page, as an edge proxy does; stripe-node then reports no status code. */
  html?: boolean;
}
export type StripeDownMode = 'unavailable' | 'reset' | 'refuse';

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
export interface StripeEffect {
  kind: 'subscription.canceled' | 'subscription.updated' | 'billing_portal.session.created';
  id: string;
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
  seedSubscription(s: {
    id: string;
    customer: string;
    status?: string;
    price?: string;
    cancel_at_period_end?: boolean;
  }): void;
  seedCharge(c: { id: string; customer: string | null; amount?: number; currency?: string }): void;
  seedInvoice(i: {
    id: string;
    customer: string;
    hosted_invoice_url?: string | null;
    status?: string;
    created?: number;
    amount_due?: number;
  }): void;
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

type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body: unknown;
}
type Handler = (params: Record<string, string>, body: Json, query: Json) => Reply;

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const now = (): number => Math.floor(Date.now() / 1000);
const token = (n: number): string => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);
const missing = (what: string, id: string): StripeApiError =>
  new StripeApiError(404, 'invalid_request_error', `No such ${what}: '${id}'`, 'resource_missing', 'id');

/** Decodes Stripe's bracketed form encoding (`metadata[plan]=pro`, `expand[0]=latest_invoice`) into objects and arrays. */
export function decodeStripeForm(encoded: string): Json {
  const root: Json = {};
  for (const [key, value] of new URLSearchParams(encoded)) {
    const parts = key.split('[').map((p, i) => (i === 0 ? p : p.replace(/\]$/, '')));
    let node = root;
    parts.forEach((part, i) => {
      const slot = part === '' ? String(Object.keys(node).length) : part;
      if (i === parts.length - 1) node[slot] = value;
      else node = (node[slot] = typeof node[slot] === 'object' && node[slot] !== null ? node[slot] : {}) as Json;
    });
  }
  const arrays = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v).map(([k, x]) => [k, arrays(x)] as const);
    const indexed = entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k));
    return indexed ? entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, x]) => x) : Object.fromEntries(entries);
  };
  return arrays(root) as Json;
}

export async function startFakeStripeApi(opts: FakeStripeApiOptions = {}): Promise<FakeStripeApi> {
  const calls: StripeCall[] = [];
  const effects: StripeEffect[] = [];
  let faults: Array<StripeFault & { times: number }> = [];
  let delays: Array<{ ms: number; times: number; match?: StripeRequestMatch }> = [];
  let downMode: StripeDownMode | undefined;
  let subscriptions = new Map<string, Json>();
  let charges = new Map<string, Json>();
  let invoices = new Map<string, Json>();
  let idempotency = new Map<string, { fingerprint: string; reply: Reply }>();

  const effect = (kind: StripeEffect['kind'], id: string): void => void effects.push({ kind, id, at: Date.now() });
  const mustSubscription = (id: string): Json => {
    const s = subscriptions.get(id);
    if (!s) throw missing('subscription', id);
    return s;
  };
  const periodEnd = (s: Json): number => {
    const items = (s.items as { data: Array<{ current_period_end: number }> }).data;
    return items[0]?.current_period_end ?? now();
  };
  const checkParams = (body: Json, allowed: string[]): void => {
    const unknown = Object.keys(body).find((k) => !allowed.includes(k));
    if (unknown)
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `Received unknown parameter: ${unknown}`,
        'parameter_unknown',
        unknown,
      );
  };
  const bool = (v: unknown): boolean | undefined => (v === 'true' ? true : v === 'false' ? false : undefined);

  const routes: Array<[string, RegExp, Handler]> = [
    ['GET', /^\/v1\/subscriptions\/(?<id>[^/]+)$/, (p) => ({ status: 200, body: mustSubscription(p.id) })],
    [
      'POST',
      /^\/v1\/subscriptions\/(?<id>[^/]+)$/,
      (p, b) => {
        const s = mustSubscription(p.id);
        checkParams(b, [
          'cancel_at_period_end',
          'cancel_at',
          'cancellation_details',
          'metadata',
          'description',
          'proration_behavior',
          'expand',
        ]);
        if (
          s.status === 'canceled' &&
          Object.keys(b).some((k) => !['cancellation_details', 'metadata', 'expand'].includes(k))
        ) {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'A canceled subscription can only update its cancellation_details and metadata.',
          );
        }
        const atPeriodEnd = bool(b.cancel_at_period_end);
        if (atPeriodEnd !== undefined)
          Object.assign(s, {
            cancel_at_period_end: atPeriodEnd,
            cancel_at: atPeriodEnd ? periodEnd(s) : null,
            canceled_at: atPeriodEnd ? now() : null,
          });
        if (b.cancel_at !== undefined) Object.assign(s, { cancel_at: b.cancel_at === '' ? null : Number(b.cancel_at) });
        if (typeof b.description === 'string') s.description = b.description || null;
        if (typeof b.metadata === 'object' && b.metadata !== null) {
          const meta = s.metadata as Json;
          for (const [k, v] of Object.entries(b.metadata))
            if (v === '') delete meta[k];
            else meta[k] = v;
        }
        if (typeof b.cancellation_details === 'object' && b.cancellation_details !== null) {
          Object.assign(s.cancellation_details as Json, b.cancellation_details);
        }
        effect('subscription.updated', p.id);
        return { status: 200, body: s };
      },
    ],
    [
      'DELETE',
      /^\/v1\/subscriptions\/(?<id>[^/]+)$/,
      (p, b) => {
        const s = mustSubscription(p.id);
        checkParams(b, ['cancellation_details', 'invoice_now', 'prorate', 'expand']);
        // Stripe treats a canceled subscription as gone for cancel purposes: the repeat is a 404, not a replay.
        if (s.status === 'canceled') throw missing('subscription', p.id);
        const details = (b.cancellation_details ?? {}) as Json;
        Object.assign(s, {
          status: 'canceled',
          canceled_at: now(),
          ended_at: now(),
          cancel_at: null,
          cancel_at_period_end: false,
          cancellation_details: {
            comment: details.comment ?? null,
            feedback: details.feedback ?? null,
            reason: 'cancellation_requested',
          },
        });
        effect('subscription.canceled', p.id);
        return { status: 200, body: s };
      },
    ],
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
        effect('billing_portal.session.created', id);
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
    [
      'GET',
      /^\/v1\/charges\/(?<id>[^/]+)$/,
      (p) => {
        const c = charges.get(p.id);
        if (!c) throw missing('charge', p.id);
        return { status: 200, body: c };
      },
    ],
    [
      'GET',
      /^\/v1\/invoices\/(?<id>[^/]+)$/,
      (p) => {
        const i = invoices.get(p.id);
        if (!i) throw missing('invoice', p.id);
        return { status: 200, body: i };
      },
    ],
    [
      'GET',
      /^\/v1\/invoices$/,
      (_p, _b, q) => {
        const limit = q.limit === undefined ? 10 : Number(q.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'Invalid integer: limit must be between 1 and 100',
            'parameter_invalid_integer',
            'limit',
          );
        }
        const found = [...invoices.values()]
          .filter(
            (i) =>
              (q.customer === undefined || i.customer === q.customer) &&
              (q.status === undefined || i.status === q.status),
          )
          .sort((a, b) => Number(b.created) - Number(a.created));
        return {
          status: 200,
          body: { object: 'list', data: found.slice(0, limit), has_more: found.length > limit, url: '/v1/invoices' },
        };
      },
    ],
  ];

  function route(method: string, path: string, body: Json, query: Json): Reply {
    for (const [m, re, handler] of routes) {
      const hit = m === method ? re.exec(path) : null;
      if (!hit) continue;
      try {
        const params = Object.fromEntries(Object.entries(hit.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
        return handler(params, body, query);
      } catch (err) {
        if (err instanceof StripeApiError) return { status: err.status, body: errorBody(err) };
        // A bug in the fake: say so loudly instead of crashing the test process.
        console.error(err);
        return {
          status: 500,
          body: errorBody(new StripeApiError(500, 'api_error', `fake stripe bug: ${String(err)}`)),
        };
      }
    }
    const message = `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`;
    return { status: 404, body: errorBody(new StripeApiError(404, 'invalid_request_error', message)) };
  }
  function errorBody(e: StripeApiError): Json {
    return {
      error: {
        type: e.type,
        message: e.message,
        ...(e.code ? { code: e.code } : {}),
        ...(e.param ? { param: e.param } : {}),
      },
    };
  }
  function faultReply(f: StripeFault, headers: Record<string, string>): Reply {
    if (f.retryAfterSeconds !== undefined) headers['Retry-After'] = String(f.retryAfterSeconds);
    if (f.shouldRetry !== undefined) headers['Stripe-Should-Retry'] = String(f.shouldRetry);
    if (f.html && (f.status === 502 || f.status === 503)) {
      headers['Content-Type'] = 'text/html';
      return {
        status: f.status,
        body: `<html><body><h1>${f.status} ${http.STATUS_CODES[f.status]}</h1></body></html>`,
      };
    }
    const serverError = "Sorry, something went wrong. We've already been notified of the problem.";
    const shapes: Record<StripeFaultStatus, [string, string, string | undefined]> = {
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
      500: ['api_error', serverError, undefined],
      502: ['api_error', serverError, undefined],
      503: ['api_error', serverError, undefined],
    };
    const [type, message, code] = shapes[f.status];
    return { status: f.status, body: errorBody(new StripeApiError(f.status, type, message, f.code ?? code)) };
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

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const timers = new Set<NodeJS.Timeout>();

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const query = decodeStripeForm(url.search.slice(1));
    const body = decodeStripeForm(raw);
    const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
    const requestId = `req_${token(14)}`;
    const call: StripeCall = {
      method,
      path,
      query: url.search,
      status: 0,
      idempotencyKey,
      params: { ...query, ...body },
      authorization: req.headers.authorization,
      stripeVersion: req.headers['stripe-version'] as string | undefined,
      requestId,
      replayed: false,
      at: Date.now(),
    };
    calls.push(call);
    if (downMode === 'reset') {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Request-Id': requestId,
      'Stripe-Version': call.stripeVersion ?? '2026-10-28.endive',
      ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
    };
    const fault = faults.find((f) => f.times > 0 && matchesRule(f.match, method, path));
    const authError = authFailure(req.headers.authorization);
    const keyed = idempotencyKey && (method === 'POST' || (method === 'DELETE' && opts.replayDeleteIdempotency));
    // Stripe scopes keys to the account (here: the API key) and compares the replay's parameters with the original's.
    const slot = `${req.headers.authorization} ${idempotencyKey}`;
    const fingerprint = JSON.stringify([method, path, call.params]);
    const saved = keyed ? idempotency.get(slot) : undefined;
    let reply: Reply;
    if (downMode === 'unavailable') reply = faultReply({ status: 503 }, headers);
    else if (fault) {
      fault.times -= 1;
      reply = faultReply(fault, headers);
    } else if (authError) {
      reply = { status: 401, body: errorBody(new StripeApiError(401, 'invalid_request_error', authError)) };
    } else if (saved && saved.fingerprint !== fingerprint) {
      const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`;
      reply = { status: 400, body: errorBody(new StripeApiError(400, 'idempotency_error', message)) };
    } else if (saved) {
      reply = saved.reply;
      call.replayed = true;
      headers['Idempotent-Replayed'] = 'true';
    } else {
      reply = route(method, path, body, query);
      // Stripe saves a result once the endpoint has started executing; parameter validation failures (400) are not saved.
      if (keyed && reply.status !== 400) idempotency.set(slot, { fingerprint, reply: structuredClone(reply) });
    }
    call.status = reply.status;
    const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(reply.status, headers);
      res.end(payload);
    };
    const hold = delays.find((d) => d.times > 0 && matchesRule(d.match, method, path));
    if (!hold) return send();
    hold.times -= 1;
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, hold.ms);
    timers.add(timer);
  }
  const matchesRule = (m: StripeRequestMatch | undefined, method: string, path: string): boolean =>
    (!m?.method || m.method.toUpperCase() === method) && (!m?.path || m.path.test(path));

  async function listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }
  async function stopListening(): Promise<void> {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // stripe-node keeps sockets alive between requests; without this the server never finishes closing.
    server.closeAllConnections();
    await closed;
  }
  const port = await listen(0);
  async function up(): Promise<void> {
    if (!server.listening) await listen(port);
    downMode = undefined;
  }

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    calls,
    effects,
    seedSubscription(s) {
      const start = now() - 86_400;
      const end = start + 30 * 86_400;
      const price = s.price ?? 'price_fake_monthly';
      subscriptions.set(s.id, {
        id: s.id,
        object: 'subscription',
        application: null,
        application_fee_percent: null,
        automatic_tax: { disabled_reason: null, enabled: false, liability: null },
        billing_cycle_anchor: start,
        billing_cycle_anchor_config: null,
        billing_mode: { type: 'flexible' },
        billing_thresholds: null,
        cancel_at: s.cancel_at_period_end ? end : null,
        cancel_at_period_end: s.cancel_at_period_end ?? false,
        canceled_at: null,
        cancellation_details: { comment: null, feedback: null, reason: null },
        collection_method: 'charge_automatically',
        created: start,
        currency: 'usd',
        customer: s.customer,
        customer_account: null,
        days_until_due: null,
        default_payment_method: null,
        default_source: null,
        description: null,
        discounts: [],
        ended_at: null,
        invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
        items: {
          object: 'list',
          has_more: false,
          total_count: 1,
          url: `/v1/subscription_items?subscription=${s.id}`,
          data: [
            {
              id: `si_${token(14)}`,
              object: 'subscription_item',
              created: start,
              current_period_start: start,
              current_period_end: end,
              metadata: {},
              quantity: 1,
              subscription: s.id,
              price: {
                id: price,
                object: 'price',
                currency: 'usd',
                unit_amount: 1500,
                recurring: { interval: 'month', interval_count: 1 },
              },
            },
          ],
        },
        latest_invoice: null,
        livemode: false,
        metadata: {},
        next_pending_invoice_item_invoice: null,
        on_behalf_of: null,
        pause_collection: null,
        payment_settings: null,
        pending_invoice_item_interval: null,
        pending_setup_intent: null,
        pending_update: null,
        schedule: null,
        start_date: start,
        status: s.status ?? 'active',
        test_clock: null,
        transfer_data: null,
        trial_end: null,
        trial_settings: null,
        trial_start: null,
      });
    },
    seedCharge(c) {
      charges.set(c.id, {
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
    },
    seedInvoice(i) {
      invoices.set(i.id, {
        id: i.id,
        object: 'invoice',
        customer: i.customer,
        status: i.status ?? 'open',
        created: i.created ?? now(),
        hosted_invoice_url:
          i.hosted_invoice_url === undefined
            ? `https://invoice.stripe.com/i/acct_fake/test_${token(24)}`
            : i.hosted_invoice_url,
        invoice_pdf: null,
        amount_due: i.amount_due ?? 1500,
        amount_paid: 0,
        amount_remaining: i.amount_due ?? 1500,
        currency: 'usd',
        livemode: false,
        metadata: {},
        number: `FAKE-${invoices.size + 1}`,
      });
    },
    subscription: (id) => subscriptions.get(id),
    cancelCalls: (id) => effects.filter((e) => e.kind === 'subscription.canceled' && e.id === id).length,
    rawCalls: (method, path) =>
      calls.filter((c) => (!method || c.method === method.toUpperCase()) && (!path || path.test(c.path))).length,
    fail: (f) => void faults.push({ ...f, times: f.times ?? 1 }),
    delay: (ms, o) => void delays.push({ ms, times: o?.times ?? 1, match: o?.match }),
    async down(mode = 'unavailable') {
      if (mode === 'refuse' && server.listening) await stopListening();
      downMode = mode;
    },
    up,
    async reset() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      faults = [];
      delays = [];
      calls.length = 0;
      effects.length = 0;
      subscriptions = new Map();
      charges = new Map();
      invoices = new Map();
      idempotency = new Map();
      await up();
    },
    async close() {
      if (server.listening) await stopListening();
    },
  };
}
