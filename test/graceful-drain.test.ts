/**
 * SIGTERM drains the API: a request in flight (here held by a PostgreSQL lock) is answered before the process exits,
 * instead of its connection being cut.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '../lib/db';
import { ScriptProcess } from '../tools/testkit/children';
import { testEnv } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(120_000);

const apiKey = `mk_test_${randomBytes(24).toString('hex')}`;
let api: ScriptProcess;
let db: Db;
let url: string;

beforeAll(async () => {
  const env = testEnv();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'memberops-drain-'));
  db = createDb(env.databaseUrl);
  api = new ScriptProcess('api', 'api/main.ts', {
    cwd: dir,
    logFile: path.join(dir, 'api.log'),
    env: {
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: `drain-${randomBytes(4).toString('hex')}`,
      STRIPE_WEBHOOK_SECRET: `whsec_test_${randomBytes(8).toString('hex')}`,
      API_KEYS: apiKey,
      STRIPE_REDRIVE_EVERY: '0',
      PORT: '0',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
  });
  api.start();
  const port = await waitFor(
    async () => {
      const line = logLines().find((l) => l.msg === 'memberops API listening');
      return typeof line?.port === 'number' ? line.port : undefined;
    },
    { timeoutMs: 60_000, description: 'the API to listen' },
  );
  url = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await api?.stop('SIGKILL');
  await db?.close();
});

function logLines(): Array<Record<string, any>> {
  // Log lines of any kind
  let text = '';
  try {
    text = readFileSync(api.logFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

it('answers a request in flight after SIGTERM, then exits cleanly', async () => {
  const lock = await db.pool.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE');
    const inFlight = fetch(`${url}/members/cus_drain_${Date.now()}/access`, {
      headers: { authorization: `Bearer ${apiKey}` },
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown }));
    // The access read waits on the lock.
    await waitFor(
      async () => {
        const rows = await db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM memberships%'`,
        );
        return rows.length > 0;
      },
      { description: 'the access read to wait on the lock' },
    );
    const stopped = api.stop('SIGTERM', 30_000);
    await waitFor(async () => logLines().some((l) => l.msg === 'shutting down'), {
      description: 'the API to begin its shutdown',
    });
    await lock.query('COMMIT');
    expect(await inFlight).toEqual({ status: 404, body: expect.objectContaining({ allowed: false }) });
    expect(await stopped).toMatchObject({ code: 0, signal: null });
  } finally {
    await lock.query('ROLLBACK').catch(() => undefined);
    lock.release();
  }
});
