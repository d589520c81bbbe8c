/**
 * "A dependency is unavailable, retry later": one error type, raised where the dependency call fails and decided by
 * the failure's facts (pg SQLSTATE classes and socket codes, gRPC status codes of Temporal calls, deadlines), never
 * by its message. The API answers it with 503 + Retry-After; in an activity it is a plain, retried error.
 */
import { isGrpcServiceError } from '@temporalio/client';
import { DatabaseError } from 'pg';
import { networkCode } from './http-failures';

export type Dependency = 'postgres' | 'temporal' | 'stripe' | 'intercom';

export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: Dependency,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * SQLSTATE classes and codes of a server that cannot serve now: 08 connection exception, 53 insufficient resources
 * (too many connections, out of memory or disk), 57P01-57P05 shutdown, crash recovery, idle-session or cannot-connect,
 * 57014 a statement cancelled by the statement timeout (an overloaded or locked server: retry later).
 */
function isUnavailableSqlState(code: string | undefined): boolean {
  if (!code) return false;
  return code.startsWith('08') || code.startsWith('53') || /^57P0[1-5]$/.test(code) || code === '57014';
}

/**
 * Whether a failed PostgreSQL call means the server is unavailable. `connectionLost` is the fact the pg client
 * reported (its `error` event) while the query ran: the connection died under it.
 */
export function isPostgresUnavailable(err: unknown, connectionLost = false): boolean {
  if (err instanceof DatabaseError) return isUnavailableSqlState(err.code);
  return connectionLost || networkCode(err) !== undefined;
}

/** gRPC status codes of a Temporal call that a later retry may get through. */
const RETRYABLE_GRPC = new Set([
  1, // CANCELLED (the connection closed under the call)
  4, // DEADLINE_EXCEEDED (our hand-off deadline)
  8, // RESOURCE_EXHAUSTED (rate limited)
  10, // ABORTED
  14, // UNAVAILABLE (server down or restarting)
]);

/** Whether a failed Temporal client call means the service is unavailable (its gRPC status, anywhere in the causes). */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isGrpcServiceError(e) && RETRYABLE_GRPC.has(e.code)) return true;
    if (networkCode(e) !== undefined) return true;
  }
  return false;
}

/**
 * gRPC status codes with which Temporal refuses a call's input for good: INVALID_ARGUMENT, FAILED_PRECONDITION,
 * OUT_OF_RANGE. Not NOT_FOUND or PERMISSION_DENIED: a missing namespace or a revoked key is fixed by configuration,
 * after which a retry gets through.
 */
const REFUSAL_GRPC = new Set([3, 9, 11]);

/** Whether Temporal refused the call as invalid (a retry of the same call would be refused again). */
export function isTemporalRefusal(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isGrpcServiceError(e)) return REFUSAL_GRPC.has(e.code);
  }
  return false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
