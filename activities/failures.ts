/** Turns a client library error into the failure Temporal should see: retry (with the server's delay) or not. */
import { ApplicationFailure } from '@temporalio/activity';
import { classifyHttpFailure } from '../lib/http-failures';

export function toActivityFailure(err: unknown, what: string): ApplicationFailure {
  // Already decided by the code that called the vendor (e.g. the Intercom door): keep its verdict and delay.
  if (err instanceof ApplicationFailure) return err;
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

/** Whether Temporal will give up on this failure (an ApplicationFailure marked non-retryable). */
export function isNonRetryable(err: unknown): boolean {
  return (err as { nonRetryable?: unknown } | null | undefined)?.nonRetryable === true;
}
