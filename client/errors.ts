/** What can go wrong calling memberops, one class per meaning; every one carries the HTTP status when there was one. */

export class MemberopsError extends Error {
  override readonly name: string = 'MemberopsError';
  constructor(
    message: string,
    /** The HTTP status memberops answered with; undefined when no answer came. */
    readonly status: number | undefined,
    /** The machine-readable `error` of the answer (`member_not_found`, `temporal_unavailable`, …). */
    readonly code: string | undefined,
    /** Seconds memberops asked the caller to wait (Retry-After), when it said. */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 401: the API key is missing or wrong (a configuration error of the app, never the member's fault). */
export class MemberopsUnauthorizedError extends MemberopsError {
  override readonly name = 'MemberopsUnauthorizedError';
}

/** 404: memberops knows no such member. */
export class MemberopsNotFoundError extends MemberopsError {
  override readonly name = 'MemberopsNotFoundError';
}

/** 503, or memberops unreachable: try again later (after `retryAfterSeconds` when given). */
export class MemberopsUnavailableError extends MemberopsError {
  override readonly name = 'MemberopsUnavailableError';
}

/** No answer within the call's timeout. */
export class MemberopsTimeoutError extends MemberopsError {
  override readonly name = 'MemberopsTimeoutError';
}

/** Retry-After as seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The error for a non-2xx answer. */
export function errorForStatus(status: number, code: string | undefined, message: string, retryAfter?: number): MemberopsError {
  const text = `memberops answered ${status}${code ? ` ${code}` : ''}: ${message}`;
  if (status === 401) return new MemberopsUnauthorizedError(text, status, code, retryAfter);
  if (status === 404) return new MemberopsNotFoundError(text, status, code, retryAfter);
  if (status === 503) return new MemberopsUnavailableError(text, status, code, retryAfter);
  return new MemberopsError(text, status, code, retryAfter);
}
