/** The one module that talks to PostgreSQL: a pg.Pool, parameterised queries, migrations, close(). */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { DependencyUnavailableError, errorMessage, isPostgresUnavailable } from './dependency-errors';

/** db/migrations of the project, found from source (lib/) and from a build (dist/lib/) alike. */
export const MIGRATIONS_DIR = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'db', 'migrations');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.join(__dirname, '..', 'db', 'migrations');
  }
})();

export interface Db {
  query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[]): Promise<R[]>;
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly pool: Pool;
}

/** PG_STATEMENT_TIMEOUT's default: no query may hold a connection (and a caller) longer than this. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;

export function createDb(
  url: string,
  opts: { max?: number; connectionTimeoutMillis?: number; statementTimeoutMs?: number } = {},
): Db {
  const pool = new Pool({
    connectionString: url,
    max: opts.max ?? 10,
    // Set per connection by the server: a query past it is cancelled (57014) and surfaces as PostgreSQL unavailable.
    statement_timeout: opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    // Fail fast when PostgreSQL is down so webhooks answer 503 (Stripe retries) instead of hanging.
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 3000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  /** A pooled connection; failing to get one means PostgreSQL is unavailable. */
  async function connect(): Promise<PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      throw new DependencyUnavailableError('postgres', `PostgreSQL unavailable: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * Runs `fn` on a pooled client. pg emits a connection that dies while the client is held on the client's `error`
   * event (even with a query in flight, before it rejects): heard here, so that it cannot crash the process, and the
   * failure surfaces as PostgreSQL unavailable. A client whose work failed is discarded rather than reused, as
   * pg.Pool#query does.
   */
  async function withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await connect();
    let connectionLost = false;
    const onError = (): void => {
      connectionLost = true;
    };
    client.on('error', onError);
    let failed: unknown;
    try {
      return await fn(client);
    } catch (err) {
      failed = err;
      if (isPostgresUnavailable(err, connectionLost)) {
        throw new DependencyUnavailableError('postgres', `PostgreSQL unavailable: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(failed instanceof Error ? failed : undefined);
    }
  }

  return {
    pool,
    query<R extends QueryResultRow>(text: string, params: unknown[] = []) {
      return withClient(async (client) => (await client.query<R>(text, params)).rows);
    },
    transaction<T>(fn: (client: PoolClient) => Promise<T>) {
      return withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const out = await fn(client);
          await client.query('COMMIT');
          return out;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

/** Applies numbered SQL files in order, each in its own transaction, under an advisory lock. Throws on failure. */
export async function migrate(db: Db, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  const client = await db.pool.connect();
  try {
    // A migration (or waiting for another process's) may take longer than the pool's statement timeout.
    await client.query('SET statement_timeout = 0');
    // Several processes (API and worker) may start together: one migrates, the others wait.
    await client.query('SELECT pg_advisory_lock(727274)');
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(path.join(dir, file), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`Migration ${file} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(727274)').catch(() => undefined);
    // Discarded, not returned to the pool: its session has no statement timeout any more.
    client.release(true);
  }
  return applied;
}
