/**
 * Routes the Temporal SDK's own logs (worker lifecycle, core warnings) into our pino logger, once per process, and
 * optionally serves the SDK's own metrics (task latencies, slots, pollers, sticky cache) for Prometheus.
 */
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
/**
 * Installs the runtime unless this process already has one (tests create several workers). With `metricsAddress`
 * (TEMPORAL_METRICS_ADDRESS) the SDK's Prometheus exporter listens there: seconds for durations and `_total` counters,
 * as Prometheus names them.
 */
export function installTemporalRuntime(
  log: Logger,
  coreLevel: 'WARN' | 'ERROR' = 'WARN',
  opts: { metricsAddress?: string } = {},
): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({
      logger: pinoAdapter(log.child({ component: 'temporal' })),
      telemetryOptions: {
        logging: { filter: { core: coreLevel, other: 'ERROR' }, forward: {} },
        ...(opts.metricsAddress
          ? {
              metrics: {
                prometheus: {
                  bindAddress: opts.metricsAddress,
                  useSecondsForDurations: true,
                  countersTotalSuffix: true,
                },
              },
            }
          : {}),
      },
    });
  } catch (err) {
    // Already installed by an earlier worker in this process: keep that one.
    if (!(err instanceof Error && /already/i.test(err.message))) throw err;
  }
}
