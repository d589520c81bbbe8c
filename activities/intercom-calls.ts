/**
 * The one door every outbound Intercom call goes through: timed, written to `crm_sync_log` (never the token or a
 * body), classified, and turned into the failure Temporal should see. A non-retryable failure raises one alert.
 */
import { asyncLocalStorage, type ApplicationFailure } from '@temporalio/activity';
import { performance } from 'node:perf_hooks';
import { classifyHttpFailure, type HttpFailure } from '../lib/clients';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { toActivityFailure } from './failures';

/** Who a call is for, and how its failures surface. */
export interface CallScope {
  customerId: string;
  /** The sync key (`<customer>:t<seq>` / `:v<version>`), or null outside a sync (member messages). */
  key: string | null;
  /**
   * `temporal`: throw the classified ApplicationFailure (CRM sync activity).
   * `raw`: rethrow the client's error, for callers that classify it themselves (the notifier via MemberMessenger).
   */
  failures: 'temporal' | 'raw';
}

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

/** Whether Temporal will give up on this failure (an ApplicationFailure marked non-retryable). */
export function isNonRetryable(err: unknown): boolean {
  return (err as ApplicationFailure | undefined)?.nonRetryable === true;
}

const STATUS_HINTS: Record<number, string> = {
  400: 'Intercom refused the request as invalid; check the data attributes and the member data.',
  401: 'The Intercom access token is invalid or revoked; check INTERCOM_ACCESS_TOKEN.',
  403: 'The Intercom access token lacks a permission this sync needs (read/write contacts, tags, data attributes).',
  404: 'Intercom does not know the object; check the workspace (INTERCOM_BASE_URL region).',
};

export function createIntercomCaller({ db, log }: { db: Db; log: Logger }): IntercomCall {
  async function record(
    scope: CallScope,
    operation: string,
    entry: {
      status?: number;
      requestId?: string;
      attempt: number;
      durationMs: number;
      outcome: 'ok' | 'retry' | 'failed';
      error?: string;
    },
  ): Promise<void> {
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

  async function raiseAlert(scope: CallScope, operation: string, failure: HttpFailure): Promise<void> {
    // One alert per member, status and operation: activity retries and Stripe redeliveries never add a second one.
    const key = `crm:${scope.customerId}:${failure.status ?? 'none'}:${operation}`;
    const hint = (failure.status !== undefined && STATUS_HINTS[failure.status]) || '';
    const message =
      `Intercom ${operation} for ${scope.customerId} failed permanently: ${failure.message}. ${hint}`.trim();
    const inserted = await db.query(
      `INSERT INTO alerts (key, customer_id, kind, message) VALUES ($1, $2, 'crm_sync_failed', $3)
       ON CONFLICT (key) DO NOTHING RETURNING id`,
      [key, scope.customerId, message],
    );
    const fields = {
      customerId: scope.customerId,
      key: scope.key,
      operation,
      status: failure.status,
      requestId: failure.requestId,
    };
    if (inserted.length > 0) log.error({ ...fields, alert: key }, message);
    else log.warn({ ...fields, alert: key }, 'Intercom call failed permanently again; alert already raised');
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
        await raiseAlert(scope, operation, failure);
      }
      if (scope.failures === 'raw') throw err;
      throw toActivityFailure(err, `Intercom ${operation}`);
    }
  };
}

/** The message of an Intercom error answer (`errors[0].message`), for flow decisions only; never stored whole. */
export function errorMessageOf(body: unknown): string {
  const errors = (body as { errors?: Array<{ message?: unknown }> } | undefined)?.errors;
  const message = Array.isArray(errors) ? errors[0]?.message : undefined;
  return typeof message === 'string' ? message : '';
}
