/**
 * The soak's own memberops: a Temporal dev server with a file-backed history (restarts keep every workflow), a fresh
 * PostgreSQL database reached through a proxy that can refuse connections, the fake Intercom and fake Stripe API, and
 * the worker and API as child processes configured only through their environment.
 */
import { kitCredentialsEnv, kitLoadLimitsEnv } from '../testkit/api-credentials';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '../../lib/db';
import { findOrBuildTemporalCli } from '../testkit/temporal-cli';
import { findFreePort, TemporalDevServer } from '../testkit/temporal-dev-server';
import { startFakeIntercom, type FakeIntercom } from '../testkit/fakes/fake-intercom';
import { startFakeStripeApi, type FakeStripeApi } from '../testkit/fakes/fake-stripe-api';
import { createTestDatabase, type TestDatabase } from '../testkit/pg';
import { ScriptProcess, waitUntil, type ExitInfo } from '../testkit/children';
import { dunningPolicy, type SoakOptions } from './options';
import { PgProxy } from './pg-proxy';

export interface Stack {
  runDir: string;
  apiUrl: string;
  webhookSecret: string;
  taskQueue: string;
  temporal: TemporalDevServer;
  client: Client;
  /** Direct connection for the checker (not through the proxy). */
  db: Db;
  proxy: PgProxy;
  intercom: FakeIntercom | undefined;
  stripe: FakeStripeApi;
  worker: ScriptProcess;
  api: ScriptProcess;
  /** Starts a worker and resolves once it polls the task queue (its own identity, not a dead worker's). */
  startWorker(timeoutMs?: number): Promise<number>;
  startApi(timeoutMs?: number): Promise<void>;
  /** Everything answers: PostgreSQL, Temporal, a worker polling. */
  waitReady(timeoutMs?: number): Promise<void>;
  close(opts: { keepRunDir: boolean; keepDatabase: boolean }): Promise<void>;
}

export async function startStack(o: SoakOptions): Promise<Stack> {
  const log = o.log;
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'memberops-soak-'));
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async (): Promise<void> => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  try {
    const cliPath =
      o.temporalCliPath ?? (await findOrBuildTemporalCli({ envPath: process.env['TEMPORAL_CLI_PATH'], log }));
    if (!cliPath) throw new Error('the soak needs the temporal CLI (TEMPORAL_CLI_PATH, PATH, or Go to build it)');
    const temporal = await TemporalDevServer.start({
      cliPath,
      headless: true,
      dbFilename: path.join(runDir, 'temporal.db'),
      logFile: path.join(runDir, 'temporal.log'),
    });
    cleanup.push(() => temporal.stop());
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: 'default' });
    cleanup.push(() => connection.close());

    const database: TestDatabase = await createTestDatabase(o.pgAdminUrl);
    let keepDatabase = false;
    cleanup.push(async () => {
      if (keepDatabase) log(`database kept: ${new URL(database.url).pathname.slice(1)}`);
      else await database.drop();
    });
    const db = createDb(database.url, { max: 8 });
    cleanup.push(() => db.close());
    const upstream = new URL(database.url);
    const proxy = await PgProxy.start({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    cleanup.push(() => proxy.close());

    const stripe = await startFakeStripeApi();
    cleanup.push(() => stripe.close());
    const intercomToken = `soak_${randomBytes(12).toString('hex')}`;
    const intercom = o.crm ? await startFakeIntercom({ token: intercomToken }) : undefined;
    if (intercom) cleanup.push(() => intercom.close());

    const policy = dunningPolicy(o);
    const port = await findFreePort();
    const webhookSecret = `whsec_soak_${randomBytes(16).toString('hex')}`;
    const taskQueue = `soak-${o.seed}-${randomBytes(3).toString('hex')}`;
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: proxy.rewrite(database.url),
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      ...kitCredentialsEnv(),
      ...kitLoadLimitsEnv,
      STRIPE_SECRET_KEY: 'sk_test_soak',
      STRIPE_API_BASE: stripe.baseUrl,
      DUNNING_GRACE_PERIOD: String(policy.graceMs),
      DUNNING_REMINDERS: policy.remindersMs.join(','),
      DUNNING_CANCEL_AFTER: String(policy.cancelAfterMs),
      DUNNING_FINAL_ACTION: 'mark_canceled',
      MEMBER_HISTORY_LIMIT: String(o.historyLimit),
      LOG_LEVEL: 'warn',
      ...(intercom ? { INTERCOM_ACCESS_TOKEN: intercomToken, INTERCOM_BASE_URL: intercom.baseUrl } : {}),
    };
    const worker = new ScriptProcess('worker', 'worker/main.ts', {
      env,
      logFile: path.join(runDir, 'worker.log'),
      cwd: runDir,
    });
    const api = new ScriptProcess('api', 'api/main.ts', { env, logFile: path.join(runDir, 'api.log'), cwd: runDir });
    cleanup.push(async () => {
      await api.stop('SIGTERM', 5000);
    });
    cleanup.push(async () => {
      await worker.stop('SIGTERM', 10_000);
    });
    const apiUrl = `http://127.0.0.1:${port}`;

    const startWorker = async (timeoutMs = 90_000): Promise<number> => {
      const pid = worker.start();
      await waitUntil(
        `worker ${pid} to poll ${taskQueue}`,
        async () => {
          const r = await client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: taskQueue },
            taskQueueType: 1,
          });
          return (r.pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
        },
        { timeoutMs, intervalMs: 200, children: [worker] },
      );
      return pid;
    };
    const startApi = async (timeoutMs = 60_000): Promise<void> => {
      const pid = api.start();
      await waitUntil(
        `API ${pid} to answer /healthz`,
        async () => (await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).ok,
        { timeoutMs, intervalMs: 200, children: [api] },
      );
    };
    const waitReady = async (timeoutMs = 60_000): Promise<void> => {
      await waitUntil(
        '/readyz',
        async () => (await fetch(`${apiUrl}/readyz?include=worker`, { signal: AbortSignal.timeout(5000) })).ok,
        { timeoutMs, intervalMs: 250 },
      );
    };

    log(
      `run directory ${runDir}; Temporal ${temporal.address}; database ${new URL(database.url).pathname.slice(1)} via proxy :${proxy.port}`,
    );
    // Both run migrations; the worker first, so the API does not wait on the advisory lock with a cold bundle.
    const started = Date.now();
    await startWorker();
    await startApi();
    await waitReady();
    log(`worker and API ready in ${Date.now() - started} ms`);

    return {
      runDir,
      apiUrl,
      webhookSecret,
      taskQueue,
      temporal,
      client,
      db,
      proxy,
      intercom,
      stripe,
      worker,
      api,
      startWorker,
      startApi,
      waitReady,
      async close(opts) {
        keepDatabase = opts.keepDatabase;
        await undo();
        if (!opts.keepRunDir) rmSync(runDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

export type { ExitInfo };
