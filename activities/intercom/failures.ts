/**
 * The one failure classification of Intercom calls: 429 waits for Retry-After (`nextRetryDelay`), 5xx and timeouts
 * retry, other 4xx (400, 401, 403, 404 on create) are permanent and raise one alert for the founder.
 */
import type { ApplicationFailure } from '@temporalio/activity';
import type { HttpFailure } from '../../lib/http-failures';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { toActivityFailure } from '../failures';

/** Who a call is for: `crm_sync_log` rows and alerts are per member. */
export interface CallScope {
  customerId: string;
  /** The sync key (`<customer>:t<seq>` / `:v<version>`, `support:<request>`), or null (member messages). */
  key: string | null;
}

const STATUS_HINTS: Record<number, string> = {
  400: 'Intercom refused the request as invalid; check the data attributes and the member data.',
  401: 'The Intercom access token is invalid or revoked; check INTERCOM_ACCESS_TOKEN.',
  403: 'The Intercom access token lacks a permission this sync needs (read/write contacts, tags, data attributes).',
  404: 'Intercom does not know the object; check the workspace (INTERCOM_BASE_URL region).',
};

/** The failure Temporal sees for a failed Intercom call (retry with the server's delay, or give up). */
export function intercomActivityFailure(err: unknown, operation: string): ApplicationFailure {
  return toActivityFailure(err, `Intercom ${operation}`);
}

/** One alert per member, status and operation: activity retries and Stripe redeliveries never add a second one. */
export async function raisePermanentFailureAlert(
  { db, log }: { db: Db; log: Logger },
  scope: CallScope,
  operation: string,
  failure: HttpFailure,
): Promise<void> {
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
