/** The fake Stripe account's objects and what every Stripe resource of the fake shares: its error and checks. */
import { randomBytes } from 'node:crypto';
import type { Handler, Json, Route } from '../scaffold';

export type StripeRoute = Route<Json>;

export interface StripeEffect {
  kind: 'subscription.canceled' | 'subscription.updated' | 'billing_portal.session.created';
  id: string;
  at: number;
}

/** An error Stripe answers as `{ error: { type, message, code?, param? } }`. */
export class StripeApiError extends Error {
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

export function errorBody(e: StripeApiError): Json {
  return {
    error: {
      type: e.type,
      message: e.message,
      ...(e.code ? { code: e.code } : {}),
      ...(e.param ? { param: e.param } : {}),
    },
  };
}

/** Random `[A-Za-z0-9]` of length `n`, for Stripe-looking ids. */
export const token = (n: number): string => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);
export const missing = (what: string, id: string): StripeApiError =>
  new StripeApiError(404, 'invalid_request_error', `No such ${what}: '${id}'`, 'resource_missing', 'id');
export const bool = (v: unknown): boolean | undefined => (v === 'true' ? true : v === 'false' ? false : undefined);

/** Stripe refuses a parameter an endpoint does not know, naming it. */
export function checkParams(body: Json, allowed: string[]): void {
  const unknown = Object.keys(body).find((k) => !allowed.includes(k));
  if (unknown)
    throw new StripeApiError(
      400,
      'invalid_request_error',
      `Received unknown parameter: ${unknown}`,
      'parameter_unknown',
      unknown,
    );
}

export class StripeAccount {
  readonly effects: StripeEffect[] = [];
  subscriptions = new Map<string, Json>();
  charges = new Map<string, Json>();
  invoices = new Map<string, Json>();
  /** In creation order; listed newest first. */
  webhookEndpoints = new Map<string, Json>();
  customers = new Map<string, Json>();
  /** Events as `GET /v1/events` lists them; a test decides which of them are also delivered by webhook. */
  events: Json[] = [];

  effect(kind: StripeEffect['kind'], id: string): void {
    this.effects.push({ kind, id, at: Date.now() });
  }

  clear(): void {
    this.effects.length = 0;
    this.subscriptions = new Map();
    this.charges = new Map();
    this.invoices = new Map();
    this.webhookEndpoints = new Map();
    this.customers = new Map();
    this.events = [];
  }
}

/** `GET /v1/<objects>/{id}`: the object, or Stripe's 404 `resource_missing` naming what was asked for. */
export const retrieve =
  (what: string, objects: () => Map<string, Json>): Handler<Json> =>
  (p) => {
    const o = objects().get(p.id);
    if (!o) throw missing(what, p.id);
    return { status: 200, body: o };
  };
