/**
 * A local stand-in for the Intercom REST API (version 2.14) that the real `intercom-client` talks to over HTTP.
 * It keeps just enough state for CRM sync and support automation, answers with Intercom's body shapes
 * (see Intercom's API 2.14 examples) and lets tests inject the failures Temporal must absorb. The HTTP and fault
 * plumbing is the shared scaffold; each resource lives in `intercom/`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  dispatch,
  FakeHttpServer,
  htmlFault,
  now,
  type BaseFault,
  type Json,
  type Reply,
  type Vendor,
} from './scaffold';
import type { DownMode, RequestMatch } from './scaffold';
import { adminRoutes } from './intercom/admins';
import { ADMIN, ApiError, errorList, type IntercomRoute } from './intercom/common';
import { contactRoutes } from './intercom/contacts';
import { conversationRoutes } from './intercom/conversations';
import { dataAttributeRoutes } from './intercom/data-attributes';
import { messageRoutes } from './intercom/messages';
import { searchRoutes } from './intercom/search';
import { tagRoutes } from './intercom/tags';
import {
  IntercomWorkspace,
  type FakeContact,
  type FakeConversation,
  type FakeDataAttribute,
  type FakeMessage,
  type FakeNote,
} from './intercom/workspace';

export type { DownMode, RequestMatch } from './scaffold';
export type {
  FakeContact,
  FakeConversation,
  FakeConversationPart,
  FakeDataAttribute,
  FakeMessage,
  FakeNote,
  FakeTag,
} from './intercom/workspace';

export type IntercomFaultStatus = 429 | 500 | 502 | 503 | 401 | 400 | 404;
export interface IntercomFault extends BaseFault {
  status: IntercomFaultStatus;
  /** For 429: sets Retry-After and moves X-RateLimit-Reset that far ahead; default 10. */
  retryAfterSeconds?: number;
  /** Answer 502/503 the way a load balancer does (text/html), not with Intercom's JSON. */
  html?: boolean;
}

export interface IntercomCall {
  method: string;
  path: string;
  query: string;
  /** 0 when the connection was reset instead of answered. */
  status: number;
  authorization: string | undefined;
  intercomVersion: string | undefined;
  body: unknown;
  requestId: string;
  at: number;
}

export interface FakeIntercomOptions {
  /** The access token every call must carry as `Authorization: Bearer …`; default `test_intercom_token`. */
  token?: string;
  /** Reject contact writes naming a custom attribute no `POST /data_attributes` created, as Intercom does; default true. */
  strictCustomAttributes?: boolean;
  /** How long a new contact stays invisible to `POST /contacts/search`; default 0. */
  searchIndexLagMs?: number;
}

export interface FakeIntercom {
  readonly baseUrl: string;
  readonly token: string;
  /** The workspace's admin (`from.id` of messages, `admin_id` of replies and assignments). */
  readonly adminId: string;
  readonly calls: IntercomCall[];
  fail(fault: IntercomFault): void;
  /** Holds matching responses back by `ms` after the request has taken effect (the lost-response case). */
  delay(ms: number, opts?: { times?: number; match?: RequestMatch }): void;
  /** Drops the faults and delays not used up yet, keeping the workspace's state. */
  clearFaults(): void;
  down(mode?: DownMode): Promise<void>;
  up(): Promise<void>;
  /** Forgets state, calls, faults and delays, and comes back up. */
  reset(): Promise<void>;
  createConversation(opts: { contactId: string; body?: string; subject?: string }): string;
  contact(id: string): FakeContact | undefined;
  contactByExternalId(externalId: string): FakeContact | undefined;
  tagsOf(contactId: string): string[];
  notesOf(contactId: string): FakeNote[];
  messagesTo(contactId: string): FakeMessage[];
  conversation(id: string): FakeConversation | undefined;
  dataAttributes(): FakeDataAttribute[];
  countCalls(method: string, path: RegExp): number;
  close(): Promise<void>;
}

/** Intercom's `X-Hub-Signature` for a webhook body: `sha1=` + HMAC-SHA1 hex of the exact bytes, keyed by the app's client secret. */
export function signIntercomWebhook(body: string, clientSecret: string): string {
  return `sha1=${createHmac('sha1', clientSecret).update(body, 'utf8').digest('hex')}`;
}

const RATE_LIMIT = 10_000;
const FAULT_CODES: Record<IntercomFaultStatus, [string, string]> = {
  400: ['parameter_invalid', 'Bad Request'],
  401: ['unauthorized', 'Access Token Invalid'],
  404: ['not_found', 'Resource Not Found'],
  429: ['rate_limit_exceeded', 'Exceeded rate limit'],
  500: ['server_error', 'Server Error'],
  502: ['bad_gateway', 'Bad Gateway'],
  503: ['service_unavailable', 'Service Unavailable'],
};
const windowStart = (): number => Math.floor(Date.now() / 60_000) * 60;

export async function startFakeIntercom(opts: FakeIntercomOptions = {}): Promise<FakeIntercom> {
  const token = opts.token ?? 'test_intercom_token';
  const ws = new IntercomWorkspace(opts.strictCustomAttributes ?? true, opts.searchIndexLagMs ?? 0);
  // Contact routes come first: `GET /contacts/find_by_external_id/…` must win over `GET /contacts/{id}`.
  const routes: IntercomRoute[] = [
    ...contactRoutes(ws),
    ...searchRoutes(ws),
    ...tagRoutes(ws),
    ...dataAttributeRoutes(ws),
    ...messageRoutes(ws),
    ...adminRoutes(),
    ...conversationRoutes(ws),
  ];
  const vendor: Vendor<IntercomFault, IntercomCall> = {
    record(req) {
      let body: unknown = req.raw;
      try {
        body = req.raw ? JSON.parse(req.raw) : {};
      } catch {
        // Recorded as the raw string; answered as a 400, as Intercom does for malformed JSON.
      }
      const call: IntercomCall = {
        method: req.method,
        path: req.path,
        query: req.url.search,
        status: 0,
        authorization: req.headers.authorization,
        intercomVersion: req.headers['intercom-version'] as string | undefined,
        body,
        requestId: randomBytes(10).toString('hex'),
        at: Date.now(),
      };
      return call;
    },
    headers: (_req, call) => ({
      'Content-Type': 'application/json; charset=utf-8',
      'X-Request-Id': call.requestId,
      'X-RateLimit-Limit': String(RATE_LIMIT),
      'X-RateLimit-Remaining': String(
        Math.max(0, RATE_LIMIT - server.calls.filter((c) => c.at >= windowStart() * 1000).length),
      ),
      'X-RateLimit-Reset': String(windowStart() + 60),
    }),
    faultReply(f: IntercomFault | { status: 503 }, headers, call): Reply {
      if (f.status === 429) {
        const wait = ('retryAfterSeconds' in f ? f.retryAfterSeconds : undefined) ?? 10;
        headers['Retry-After'] = String(wait);
        headers['X-RateLimit-Remaining'] = '0';
        headers['X-RateLimit-Reset'] = String(now() + wait);
      }
      const page = htmlFault(f, headers);
      if (page) return page;
      const [code, message] = FAULT_CODES[f.status];
      return { status: f.status, body: errorList(call.requestId, code, message) };
    },
    answer(req, _headers, call): Reply {
      const { requestId, body } = call;
      if (req.headers.authorization !== `Bearer ${token}`) {
        return { status: 401, body: errorList(requestId, 'unauthorized', 'Access Token Invalid') };
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return { status: 400, body: errorList(requestId, 'parameter_invalid', 'Request body must be a JSON object') };
      }
      return dispatch(
        routes,
        { method: req.method, path: req.path, body: body as Json, query: req.url.searchParams },
        {
          onError: (err) =>
            err instanceof ApiError
              ? { status: err.status, body: errorList(requestId, err.code, err.message) }
              : undefined,
          bug: (err) => ({
            status: 500,
            body: errorList(requestId, 'server_error', `fake intercom bug: ${String(err)}`),
          }),
          notFound: () => ({ status: 404, body: errorList(requestId, 'not_found', 'Resource Not Found') }),
        },
      );
    },
  };
  const server = await FakeHttpServer.start(vendor);

  return {
    baseUrl: server.baseUrl,
    token,
    adminId: ADMIN.id,
    calls: server.calls,
    ...server.controls(),
    async reset() {
      ws.seed();
      await server.reset();
    },
    createConversation: (o) => ws.createConversation(o),
    contact: (id) => ws.contacts.get(id),
    contactByExternalId: (externalId) => [...ws.contacts.values()].find((c) => c.external_id === externalId),
    tagsOf: (contactId) => [...(ws.contactTags.get(contactId) ?? [])].map((id) => ws.tags.get(id)?.name ?? id),
    notesOf: (contactId) => ws.notes.filter((n) => n.contactId === contactId),
    messagesTo: (contactId) => ws.messages.filter((m) => m.to.id === contactId),
    conversation: (id) => ws.conversations.get(id),
    dataAttributes: () => [...ws.attributes],
    countCalls: (method, path) =>
      server.calls.filter((c) => c.method === method.toUpperCase() && path.test(c.path)).length,
  };
}
