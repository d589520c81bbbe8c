/**
 * One classifier for the failures the Intercom and Stripe clients throw: worth another attempt or not, when, and a
 * message safe to log. Decisions use the failure's facts (error class, HTTP status, headers, network code).
 */
import { IntercomError, IntercomTimeoutError } from 'intercom-client';
import Stripe from 'stripe';

export interface HttpFailure {
  retryable: boolean;
  status?: number;
  /** When the server said how long to wait (Retry-After, X-RateLimit-Reset); for `nextRetryDelay`. */
  retryAfterMs?: number;
  requestId?: string;
  /** The vendor's machine-readable error code (Stripe `resource_missing`, …), for flow decisions. */
  code?: string;
  /** Safe to log and to put in a Temporal failure: no token, no request body, bounded length. */
  message: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Decides whether a failed Intercom or Stripe call is worth another activity attempt, and when. */
export function classifyHttpFailure(err: unknown): HttpFailure {
  if (err instanceof IntercomTimeoutError) {
    return { retryable: true, message: `Intercom timeout: ${safe(err.message)}` };
  }
  if (err instanceof IntercomError) return classifyIntercom(err);
  if (err instanceof Stripe.errors.StripeError) return classifyStripe(err);
  const code = networkCode(err);
  if (code) return { retryable: true, message: `Network error: ${code}` };
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return { retryable: true, message: `Request timed out: ${safe(err.message)}` };
  }
  // Unknown failures stay retryable, as a plain error is to Temporal: a fix and a redeploy then lets the workflow go on.
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { retryable: true, message: `Unexpected error: ${safe(text)}` };
}

function classifyIntercom(err: IntercomError): HttpFailure {
  const headers = err.rawResponse?.headers;
  const status = err.statusCode;
  const requestId = headers?.get('x-request-id') ?? bodyField(err.body, 'request_id');
  if (status === undefined) {
    // No status: the token provider failed before sending (no raw response), the caller aborted (499), or the
    // request never got an answer (fetch failed: refused, reset, DNS), which is the only transient case.
    const raw = err.rawResponse;
    if (!raw) return { retryable: false, requestId, message: `Intercom client error: ${safe(err.message)}` };
    if (raw.status === 499) return { retryable: false, message: 'Intercom request aborted by the caller' };
    // 7.0.3 aborts its timeout signal with the reason "timeout", so fetch rejects with that string rather than an
    // AbortError and the library's IntercomTimeoutError branch never runs: a timeout arrives as this JSON string.
    if (err.message === '"timeout"') return { retryable: true, message: 'Intercom timeout: no response in time' };
    // The library keeps only the fetch error's message ("fetch failed"; "{}" where undici's TypeError is from another
    // realm, as under jest), not its cause, so refused, reset and DNS failures look alike here.
    const detail = err.message && err.message !== '{}' ? ` (${safe(firstLine(err.message))})` : '';
    return { retryable: true, message: `Intercom request got no response${detail}` };
  }
  const detail = intercomErrorDetail(err.body);
  const message = `Intercom ${status}${detail ? `: ${detail}` : ''}`;
  return {
    retryable: isRetryableStatus(status),
    status,
    retryAfterMs: status === 429 ? retryAfterMs((name) => headers?.get(name) ?? undefined) : undefined,
    requestId,
    message,
  };
}

function classifyStripe(err: Stripe.errors.StripeError): HttpFailure {
  const requestId = err.requestId;
  const status = err.statusCode;
  if (err instanceof Stripe.errors.StripeConnectionError) {
    const code = networkCode(err.detail);
    return {
      retryable: true,
      requestId,
      message: `Stripe connection error: ${safe(err.message)}${code ? ` (${code})` : ''}`,
    };
  }
  const detail = [err.type, err.code, safe(err.message)].filter(Boolean).join(': ');
  if (status === undefined) {
    // stripe-node reports a non-JSON answer (an edge proxy's HTML 502) as StripeAPIError without a status.
    const retryable = err instanceof Stripe.errors.StripeAPIError;
    return { retryable, requestId, ...codeOf(err), message: `Stripe error without status: ${detail}` };
  }
  const header = (name: string): string | undefined => err.headers?.[name];
  // Stripe-Should-Retry is Stripe's own verdict; stripe-node follows it, and so do we.
  const advice = header('stripe-should-retry');
  let retryable = isRetryableStatus(status) || err instanceof Stripe.errors.StripeRateLimitError;
  // A Stripe 409 is a lock timeout or an idempotency key still in use by a concurrent request: both clear up.
  if (status === 409) retryable = true;
  if (err instanceof Stripe.errors.StripeIdempotencyError) retryable = false;
  if (advice === 'true') retryable = true;
  if (advice === 'false') retryable = false;
  return {
    retryable,
    status,
    retryAfterMs:
      status === 429 || err instanceof Stripe.errors.StripeRateLimitError ? retryAfterMs(header) : undefined,
    requestId,
    ...codeOf(err),
    message: `Stripe ${status}: ${detail}`,
  };
}

const codeOf = (err: Stripe.errors.StripeError): { code?: string } => (err.code ? { code: err.code } : {});

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Retry-After (seconds or HTTP date) first, then X-RateLimit-Reset (epoch seconds, Intercom), as milliseconds from now. */
function retryAfterMs(header: (name: string) => string | undefined): number | undefined {
  const retryAfter = header('retry-after');
  if (retryAfter !== undefined) {
    if (/^\d+(\.\d+)?$/.test(retryAfter.trim())) return Math.round(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  const reset = Number(header('x-ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - Date.now());
  return undefined;
}

function intercomErrorDetail(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().startsWith('<') ? 'non-JSON (HTML) response' : safe(firstLine(body));
  const errors = (body as { errors?: Array<{ code?: unknown; message?: unknown }> } | undefined)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  if (!first) return undefined;
  return safe([first.code, first.message].filter((x) => typeof x === 'string').join(': '));
}

function bodyField(body: unknown, field: string): string | undefined {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** A socket-level error code (refused, reset, DNS, …) of the error or its causes. */
export function networkCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 3) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  return networkCode((err as { cause?: unknown }).cause, depth + 1);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

/** Strips anything token-shaped and bounds the length, so failures are safe to log and to store in history. */
function safe(text: string): string {
  const redacted = text
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]+/g, '$1_$2_[redacted]')
    .replace(/\bwhsec_[A-Za-z0-9]+/g, 'whsec_[redacted]');
  return redacted.length > 300 ? `${redacted.slice(0, 300)}…` : redacted;
}
