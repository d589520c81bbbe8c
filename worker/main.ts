/** `npm run worker`: the Temporal worker alone, against given PostgreSQL and Temporal servers. */
import { createDb, migrate } from '../lib/db';
import { entryLogger, loadConfigOrExit, onShutdown } from '../lib/entry';
import { startWorkerMetricsServer } from './metrics-server';
import { buildWorker } from './run';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'worker');
  const log = entryLogger(config, 'memberops-worker');
  if (!config.databaseUrl || !config.temporal.address) {
    log.fatal('npm run worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides local ones)');
    process.exit(1);
  }
  const db = createDb(config.databaseUrl, { statementTimeoutMs: config.containment.statementTimeoutMs });
  await migrate(db);
  const { worker, connection } = await buildWorker(config, db, log);
  const metrics =
    config.workerMetricsPort === undefined
      ? undefined
      : await startWorkerMetricsServer(config.workerMetricsPort, config.security.apiKeys, {
          polling: () => worker.getState() === 'RUNNING',
          // Temporal's gRPC health check, cut at 2 s (an unreachable server answers false, not a hang).
          temporal: () =>
            Promise.race([
              connection.healthService.check({}).then(() => true),
              new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
            ]),
        });
  onShutdown(log, async () => {
    await metrics?.close();
    // The Temporal runtime may already be draining it on the same signal.
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  log.info({ taskQueue: config.temporal.taskQueue }, 'memberops worker polling');
  await worker.run();
  await metrics?.close();
  await connection.close();
  await db.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`memberops worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
