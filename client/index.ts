/**
 * The app's typed client of memberops (server side only: it carries the API key). Every answer is parsed with the
 * schemas the API builds its answers with (`lib/contract.ts`), every call has a deadline, and failures are typed
 * (`errors.ts`). No Node built-ins: it runs in a Next.js server, route handler or middleware alike.
 */
import type { z } from 'zod';
import {
  accessAnswerSchema,
  billingPortalAnswerSchema,
  billingPortalRequestSchema,
  errorAnswerSchema,
  memberAnswerSchema,
  messengerAnswerSchema,
  supportAnswerSchema,
  supportRequestSchema,
  type AccessAnswer,
  type BillingPortalAnswer,
  type BillingPortalRequest,
  type MemberAnswer,
  type MessengerAnswer,
  type SupportAnswer,
  type SupportRequest,
} from '../lib/contract';
import { AccessCache } from './access-cache';
import {
  errorForStatus,
  MemberopsError,
  MemberopsTimeoutError,
  MemberopsUnavailableError,
  retryAfterSeconds,
} from './errors';

export * from './errors';
export type { AccessAnswer, BillingPortalAnswer, BillingPortalRequest, MemberAnswer, MessengerAnswer, SupportAnswer, SupportRequest } from '../lib/contract';

export interface MemberopsClientOptions {
  /** Where memberops listens, e.g. `http://memberops.internal:3000` (MEMBEROPS_URL). */
  baseUrl: string;
  /** One of memberops' API_KEYS (MEMBEROPS_API_KEY); never sent to the browser. */
  apiKey: string;
  /** Deadline of each call, in milliseconds; default 3000. */
  timeoutMs?: number;
  /** Seconds an allowed `access()` answer is reused; default 5, 0 turns the cache off. */
  accessCacheSeconds?: number;
  /** A fetch of your own (tests, instrumentation); default the global one. */
  fetch?: typeof fetch;
}

/** `eventual` reads the projection (fast); `strong` asks the member's workflow (the canonical state, slower). */
export type Consistency = 'eventual' | 'strong';

export interface MemberopsClient {
  /**
   * May this member use the member-only pages? An unknown member is an answer (`status: 'none'`, `allowed: false`),
   * not an error. Allowed answers are cached for `accessCacheSeconds` unless `strong` is asked for.
   */
  access(memberId: string, opts?: { consistency?: Consistency }): Promise<AccessAnswer>;
  /** The whole membership: status, subscription, dunning, transitions, notices. 404: MemberopsNotFoundError. */
  member(memberId: string, opts?: { consistency?: Consistency }): Promise<MemberAnswer>;
  /** A support message from the app (a contact form); the answer says where the reply went. */
  supportRequest(request: SupportRequest): Promise<SupportAnswer>;
  /** What the Intercom Messenger boots with: `app_id: appId`, `intercom_user_jwt: token`. */
  messengerIdentity(memberId: string): Promise<MessengerAnswer>;
  /**
   * A one-off Stripe Billing Portal url for this member (the billing page's "manage your subscription" link); send
   * the member there right away, it expires. 404: MemberopsNotFoundError; 503: Stripe unreachable or not configured.
   */
  billingPortal(memberId: string, request?: BillingPortalRequest): Promise<BillingPortalAnswer>;
  /** Drops cached access answers (one member's, or all), e.g. right after the app learns of a change. */
  forgetAccess(memberId?: string): void;
}

const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_ACCESS_CACHE_SECONDS = 5;

export function createMemberopsClient(options: MemberopsClientOptions): MemberopsClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const cache = new AccessCache((options.accessCacheSeconds ?? DEFAULT_ACCESS_CACHE_SECONDS) * 1000);

  /** One call: the key, the deadline, errors typed by status; the raw answer for the caller to parse. */
  async function call(path: string, init: RequestInit = {}, notFoundIsAnswer = false): Promise<unknown> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${options.apiKey}`);
    headers.set('accept', 'application/json');
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, { ...init, headers, signal });
    } catch (err) {
      // The signal says why, whatever realm the DOMException comes from.
      if (signal.aborted) {
        throw new MemberopsTimeoutError(`memberops did not answer within ${timeoutMs} ms`, undefined, 'timeout', undefined, { cause: err });
      }
      throw new MemberopsUnavailableError('memberops is unreachable', undefined, 'unreachable', undefined, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok && !(notFoundIsAnswer && res.status === 404)) throw failure(res, json);
    return json;
  }

  function failure(res: Response, json: unknown): MemberopsError {
    const body = errorAnswerSchema.safeParse(json);
    const code = body.success ? body.data.error : undefined;
    const message = (body.success ? body.data.message : undefined) ?? res.statusText;
    return errorForStatus(res.status, code, message, retryAfterSeconds(res.headers.get('retry-after')));
  }

  /** The answer parsed with its schema; an answer that does not fit is memberops' fault, said so. */
  function parse<S extends z.ZodType>(schema: S, json: unknown, what: string): z.infer<S> {
    const r = schema.safeParse(json);
    if (!r.success) {
      throw new MemberopsError(`memberops answered ${what} in an unexpected shape: ${r.error.message}`, 200, 'unexpected_answer');
    }
    return r.data;
  }

  const memberPath = (memberId: string, tail = '', consistency?: Consistency): string =>
    `/members/${encodeURIComponent(memberId)}${tail}${consistency === 'strong' ? '?consistency=strong' : ''}`;

  return {
    async access(memberId, opts = {}) {
      if (opts.consistency !== 'strong') {
        const hit = cache.get(memberId);
        if (hit) return hit;
      }
      // A 404 carries an access answer of its own (status `none`): the app treats it as any denial.
      const json = await call(memberPath(memberId, '/access', opts.consistency), {}, true);
      const answer = parse(accessAnswerSchema, json, 'access');
      cache.remember(memberId, answer);
      return answer;
    },
    async member(memberId, opts = {}) {
      const json = await call(memberPath(memberId, '', opts.consistency));
      return parse(memberAnswerSchema, json, 'member');
    },
    async supportRequest(request) {
      // Refused here in the API's own words, before a round trip that would answer 400 anyway.
      const body = supportRequestSchema.safeParse(request);
      if (!body.success) {
        const issue = body.error.issues[0];
        throw new MemberopsError(`${issue?.path.join('.') || 'request'} ${issue?.message ?? 'is invalid'}`, undefined, 'invalid_request');
      }
      const json = await call('/support/requests', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body.data),
      });
      return parse(supportAnswerSchema, json, 'support request');
    },
    async messengerIdentity(memberId) {
      const json = await call(memberPath(memberId, '/messenger'));
      return parse(messengerAnswerSchema, json, 'messenger identity');
    },
    async billingPortal(memberId, request = {}) {
      const body = billingPortalRequestSchema.safeParse(request);
      if (!body.success) {
        const issue = body.error.issues[0];
        throw new MemberopsError(`${issue?.path.join('.') || 'request'} ${issue?.message ?? 'is invalid'}`, undefined, 'invalid_request');
      }
      const json = await call(memberPath(memberId, '/billing-portal'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body.data),
      });
      return parse(billingPortalAnswerSchema, json, 'billing portal');
    },
    forgetAccess(memberId) {
      cache.forget(memberId);
    },
  };
}
