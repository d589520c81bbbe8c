/**
 * The one door every outbound Intercom call goes through: timed, written to `crm_sync_log` (never the token or a
 * body), classified, and turned into the failure Temporal should see. A non-retryable failure raises one alert.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import { performance } from 'node:perf_hooks';
import type { Db } from '../../lib/db';
import { classifyHttpFailure, type HttpFailure } from '../../lib/http-failures';
import type { Logger } from '../../lib/logger';
import { intercomActivityFailure, raisePermanentFailureAlert, type CallScope } from './failures';

export type { CallScope } from './failures';

/** The shape intercom-client v7 gives with `.withRawResponse()`; paginated calls are adapted to it. */
export interface WithRaw<T> {
  data: T;
  rawResponse: { status: number; headers: { get(name: string): string | null } };
}

export type CallResult<T> =
  | { ok: true; data: T; status: number; requestId: string | undefined }
  /** An error answer the caller said it expects (404 on lookup, 409 on create, …). */
  | { ok: false; failure: HttpFailure; body: unknown };

export interface CallOptions {
  /** Error answers that are part of the flow rather than failures; logged with outcome `ok` and returned. */
  expect?: (failure: HttpFailure, body: unknown) => boolean;
}

export type IntercomCall = <T>(
  scope: CallScope,
  operation: string,
  send: () => Promise<WithRaw<T>>,
  opts?: CallOptions,
) => Promise<CallResult<T>>;

/** The activity attempt the call belongs to (1 outside an activity, e.g. in a script). */
export function currentAttempt(): number {
  return asyncLocalStorage.getStore()?.info.attempt ?? 1;
}

interface LogEntry {
  status?: number;
  requestId?: string;
  attempt: number;
  durationMs: number;
  outcome: 'ok' | 'retry' | 'failed';
  error?: string;
}

export function createIntercomCaller({ db, log }: { db: Db; log: Logger }): IntercomCall {
  async function record(scope: CallScope, operation: string, entry: LogEntry): Promise<void> {
    await db.query(
      `INSERT INTO crm_sync_log (customer_id, key, operation, request_id, http_status, attempt, duration_ms, outcome, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        scope.customerId,
        scope.key,
        operation,
        entry.requestId ?? null,
        entry.status ?? null,
        entry.attempt,
        entry.durationMs,
        entry.outcome,
        entry.error ?? null,
      ],
    );
  }

  return async function call<T>(
    scope: CallScope,
    operation: string,
    send: () => Promise<WithRaw<T>>,
    opts: CallOptions = {},
  ): Promise<CallResult<T>> {
    const attempt = currentAttempt();
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      const { data, rawResponse } = await send();
      const requestId = rawResponse.headers.get('x-request-id') ?? undefined;
      const durationMs = elapsed();
      await record(scope, operation, { status: rawResponse.status, requestId, attempt, durationMs, outcome: 'ok' });
      log.debug(
        { customerId: scope.customerId, key: scope.key, operation, status: rawResponse.status, requestId, durationMs },
        'Intercom call',
      );
      return { ok: true, data, status: rawResponse.status, requestId };
    } catch (err) {
      const durationMs = elapsed();
      const failure = classifyHttpFailure(err);
      const body = (err as { body?: unknown }).body;
      const entry = {
        status: failure.status,
        requestId: failure.requestId,
        attempt,
        durationMs,
        error: failure.message,
      };
      if (opts.expect?.(failure, body)) {
        await record(scope, operation, { ...entry, outcome: 'ok' });
        return { ok: false, failure, body };
      }
      await record(scope, operation, { ...entry, outcome: failure.retryable ? 'retry' : 'failed' });
      if (failure.retryable) {
        log.warn(
          {
            customerId: scope.customerId,
            key: scope.key,
            operation,
            status: failure.status,
            requestId: failure.requestId,
            attempt,
            retryAfterMs: failure.retryAfterMs,
          },
          `Intercom call failed, will retry: ${failure.message}`,
        );
      } else {
        await raisePermanentFailureAlert({ db, log }, scope, operation, failure);
      }
      throw intercomActivityFailure(err, operation);
    }
  };
}

/** The message of an Intercom error answer (`errors[0].message`), for flow decisions only; never stored whole. */
export function errorMessageOf(body: unknown): string {
  const errors = (body as { errors?: Array<{ message?: unknown }> } | undefined)?.errors;
  const message = Array.isArray(errors) ? errors[0]?.message : undefined;
  return typeof message === 'string' ? message : '';
}
