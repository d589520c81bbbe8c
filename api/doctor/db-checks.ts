/** PostgreSQL: reachable, and every migration in db/migrations applied. */
import { readdir } from 'node:fs/promises';
import { createDb, MIGRATIONS_DIR } from '../../lib/db';
import { fail, ok, reason, within, type CheckResult } from './check';

export async function migrationCheck(
  databaseUrl: string | undefined,
  dir: string = MIGRATIONS_DIR,
): Promise<CheckResult> {
  const id = 'db.migrations';
  if (!databaseUrl) return fail(id, 'DATABASE_URL is not set', 'Set DATABASE_URL to the PostgreSQL memberops uses.');
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  const db = createDb(databaseUrl, { max: 1, connectionTimeoutMillis: 5000 });
  try {
    const tables = await within(
      db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t"),
      5000,
      'PostgreSQL',
    );
    const applied = tables[0]?.t
      ? new Set((await db.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version))
      : new Set<string>();
    const pending = files.filter((f) => !applied.has(f));
    return pending.length === 0
      ? ok(id, `all ${files.length} migrations applied`)
      : fail(
          id,
          `${pending.length} migration(s) not applied: ${pending.join(', ')}`,
          'Run `npm run migrate` (in the image: node dist/db/migrate.js) with this DATABASE_URL.',
        );
  } catch (err) {
    return fail(
      id,
      `cannot read schema_migrations: ${reason(err)}`,
      'Check DATABASE_URL and that PostgreSQL is reachable from here.',
    );
  } finally {
    await db.close();
  }
}
