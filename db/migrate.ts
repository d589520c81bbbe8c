/** `npm run migrate`: applies db/migrations to DATABASE_URL. A failed migration exits non-zero. */
import { createDb, migrate } from '../lib/db';
import { loadConfigOrExit } from '../lib/entry';

async function main(): Promise<void> {
  const config = loadConfigOrExit({ STRIPE_WEBHOOK_SECRET: 'whsec_unused_by_migrations', ...process.env }, 'worker');
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set');
  const db = createDb(config.databaseUrl);
  try {
    const applied = await migrate(db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
