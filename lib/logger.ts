/** pino logger with secrets redacted wherever they could appear. */
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = [
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
  'config.security',
  'config.temporal.apiKey',
  'req.headers.cookie',
  'headers.cookie',
  '*.apiKey',
  '*.apiKeys',
  '*.password',
  '*.passwordHash',
  '*.sessionSecret',
  '*.messengerSecret',
];

export function createLogger(
  opts: { level?: string; name?: string; destination?: pino.DestinationStream; pretty?: boolean } = {},
): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    name: opts.name ?? 'memberops',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  // pino's own pretty transport (a worker thread); redaction happens before it, so it never sees a secret.
  if (opts.pretty && !opts.destination) options.transport = { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } };
  return pino(options, opts.destination);
}
