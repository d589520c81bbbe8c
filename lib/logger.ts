/** pino logger with secrets redacted wherever they could appear. */
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'req.headers["x-hub-signature"]',
  '*.token',
  '*.accessToken',
  '*.secretKey',
  '*.webhookSecret',
  'config.stripe',
  'config.intercom.accessToken',
];

export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    { level: opts.level ?? 'info', name: opts.name ?? 'memberops', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    opts.destination,
  );
}
