/**
 * A PostgreSQL connection that dies while a transaction holds it (an outage, a failover) must not crash the worker:
 * pg reports it on the client's `error` event, which nothing heard inside `db.transaction` until the soak's PostgreSQL
 * outage brought a worker down with "Unhandled 'error' event" (read ECONNRESET) in a projection write.
 */
import { createDb, type Db } from '../lib/db';
import { DependencyUnavailableError } from '../lib/dependency-errors';
import { testEnv } from './helpers/harness';

let db: Db;
let admin: Db;
beforeAll(() => {
  db = createDb(testEnv().databaseUrl, { max: 2 });
  admin = createDb(testEnv().databaseUrl, { max: 1 });
});
afterAll(async () => {
  await db?.close();
  await admin?.close();
});

describe('a connection lost inside a transaction', () => {
  it('rejects as PostgreSQL unavailable, discards the client and leaves the pool serving', async () => {
    const attempt = db.transaction(async (client) => {
      const [row] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      await admin.query('SELECT pg_terminate_backend($1)', [row?.pid]);
      await client.query('SELECT 1');
    });
    await expect(attempt).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(attempt).rejects.toThrow(/PostgreSQL unavailable/);
    // The broken client went back to the pool as discarded: the next queries get live connections.
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await db.transaction(async (client) => (await client.query('SELECT 2 AS two')).rows)).toEqual([{ two: 2 }]);
  });
});
