import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops the database, closing any connections still open to it. */
  drop(): Promise<void>;
}

/** Creates an empty database `memberops_test_<random>` on the server of `adminUrl` (a superuser connection string). */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  // Generated from [a-z0-9_] only, so it is safe to quote as an identifier (CREATE DATABASE takes no parameters).
  const name = `memberops_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      // FORCE (PostgreSQL 13+) ends connections a test forgot to close, which would otherwise block the drop.
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, fn: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
