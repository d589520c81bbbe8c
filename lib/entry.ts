/** Shared start-up for entry points: .env, config (fail fast naming the variable), logger, shutdown on signals. */
import { ConfigError, loadConfig, type Config } from './config';
import type { ConfigPart } from './config-security';
import { loadDotEnv } from './env-file';
import { createLogger, type Logger } from './logger';

export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env, part: ConfigPart = 'api'): Config {
  loadDotEnv();
  try {
    return loadConfig(env, { part });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`memberops: ${err.message}\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export function entryLogger(config: Config, name: string): Logger {
  return createLogger({ level: config.logLevel, name, pretty: config.logFormat === 'pretty' });
}
