/** Routes the Temporal SDK's own logs (worker lifecycle, core warnings) into our pino logger, once per process. */
import { Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

function pinoAdapter(log: Logger): TemporalLogger {
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void => {
      log[LEVELS[level]]({ ...(meta ?? {}) }, message);
    };
  return {
    log: (level, message, meta) => at(level)(message, meta),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

let installed = false;
/** Installs the runtime unless this process already has one (tests create several workers). */
export function installTemporalRuntime(log: Logger, coreLevel: 'WARN' | 'ERROR' = 'WARN'): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({
      logger: pinoAdapter(log.child({ component: 'temporal' })),
      telemetryOptions: { logging: { filter: { core: coreLevel, other: 'ERROR' }, forward: {} } },
    });
  } catch (err) {
    // Already installed by an earlier worker in this process: keep that one.
    if (!(err instanceof Error && /already/i.test(err.message))) throw err;
  }
}
