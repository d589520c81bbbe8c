import { execFile } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';

/** The two stores of a SQL-backed Temporal server and the schema directory (under schema/postgresql/v12) of each. */
export const TEMPORAL_STORES = [
  { store: 'default', schema: 'temporal' },
  { store: 'visibility', schema: 'visibility' },
] as const;

export type TemporalStore = (typeof TEMPORAL_STORES)[number]['store'];

export interface PgEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The PostgreSQL server and credentials of a connection string (`postgres://user:pw@host:port/db`). */
export function pgEndpoint(url: string): PgEndpoint {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port === '' ? 5432 : Number(u.port),
    user: decodeURIComponent(u.username) || 'postgres',
    password: decodeURIComponent(u.password),
  };
}

/**
 * The `temporal-sql-tool` invocations that create and migrate one store: the same three steps the admin-tools job of
 * docker-compose.yml runs (a test compares them).
 */
export function schemaCommands(pg: Omit<PgEndpoint, 'password'>, database: string, schemaDir: string, schema: string): string[][] {
  // The password travels in SQL_PASSWORD, never in an argument that `ps` shows.
  const common = ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user, '--db', database];
  return [
    [...common, 'create-database'],
    [...common, 'setup-schema', '-v', '0.0'],
    [...common, 'update-schema', '-d', path.join(schemaDir, schema, 'versioned')],
  ];
}

/** Creates and migrates both stores with `temporal-sql-tool` (idempotent: existing databases are migrated). */
export async function setupTemporalDatabases(opts: {
  sqlTool: string;
  schemaDir: string;
  pg: PgEndpoint;
  databases: Record<TemporalStore, string>;
  log: (msg: string) => void;
}): Promise<void> {
  for (const { store, schema } of TEMPORAL_STORES) {
    const database = opts.databases[store];
    if (await databaseExists(opts.pg, database)) {
      // create-database and setup-schema fail on an existing database; update-schema alone brings it up to date.
      await runSqlTool(opts.sqlTool, schemaCommands(opts.pg, database, opts.schemaDir, schema).slice(2), opts.pg);
    } else {
      await runSqlTool(opts.sqlTool, schemaCommands(opts.pg, database, opts.schemaDir, schema), opts.pg);
    }
    opts.log(`Temporal ${store} store ready in database ${database}`);
  }
}

/** Drops both databases, ending connections left open (PostgreSQL 13+). */
export async function dropTemporalDatabases(pg: PgEndpoint, databases: Record<TemporalStore, string>): Promise<void> {
  await withPg(pg, async (c) => {
    for (const name of Object.values(databases)) {
      // Names are generated from [a-z0-9_]; DROP DATABASE takes no parameters.
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });
}

async function databaseExists(pg: PgEndpoint, name: string): Promise<boolean> {
  return withPg(pg, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

async function withPg<T>(pg: PgEndpoint, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ ...pg, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function tail(text: string): string {
  return text.split('\n').slice(-15).join('\n');
}

async function runSqlTool(sqlTool: string, steps: string[][], pg: PgEndpoint): Promise<void> {
  for (const args of steps) {
    await new Promise<void>((resolve, reject) => {
      const env = { ...process.env, SQL_PASSWORD: pg.password };
      execFile(sqlTool, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
        if (!err) return resolve();
        reject(new Error(`temporal-sql-tool ${args.join(' ')} failed: ${err.message}\n${tail(stderr)}`));
      });
    });
  }
}
