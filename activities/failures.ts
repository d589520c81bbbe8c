/** Turns a client library error into the failure Temporal should see: retry (with the server's delay) or not. */
import { ApplicationFailure } from '@temporalio/activity';
import { classifyHttpFailure } from '../lib/clients';

export function toActivityFailure(err: unknown, what: string): ApplicationFailure {
  const f = classifyHttpFailure(err);
  const message = `${what} failed${f.status ? ` (HTTP ${f.status})` : ''}: ${f.message}${f.requestId ? ` [request ${f.requestId}]` : ''}`;
  if (!f.retryable) return ApplicationFailure.nonRetryable(message, `Http${f.status ?? 'Error'}`);
  return ApplicationFailure.create({
    message,
    type: `Http${f.status ?? 'Transient'}`,
    nonRetryable: false,
    ...(f.retryAfterMs !== undefined ? { nextRetryDelay: f.retryAfterMs } : {}),
  });
}
