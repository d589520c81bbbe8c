/** `npm run api`: the HTTP API alone, against given PostgreSQL and Temporal servers. */
import { createStripeClient } from '../lib/clients';
import { createDb, migrate } from '../lib/db';
import { entryLogger, loadConfigOrExit, onShutdown } from '../lib/entry';
import { connectTemporalClient, temporalConnectionSettings } from '../lib/temporal';
import { startApiServer } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = entryLogger(config, 'memberops-api');
  if (!config.databaseUrl || !config.temporal.address) {
    log.fatal('npm run api needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides local ones)');
    process.exit(1);
  }
  const db = createDb(config.databaseUrl, { statementTimeoutMs: config.containment.statementTimeoutMs });
  await migrate(db);
  const temporal = await connectTemporalClient({
    ...temporalConnectionSettings(config.temporal),
    namespace: config.temporal.namespace,
  });
  const stripe = config.stripe.secretKey ? createStripeClient({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase }) : undefined;
  const api = await startApiServer(config, { db, temporal, log, stripe });
  log.info({ port: api.port }, 'memberops API listening');
  onShutdown(log, async () => {
    await api.close();
    await temporal.connection.close();
    await db.close();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`memberops api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
