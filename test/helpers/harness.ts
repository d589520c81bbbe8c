/**
 * A real memberops for a test file: worker and API against the suite's Temporal dev server and PostgreSQL,
 * on a task queue of its own, with the HTTP API on a real socket.
 */
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { MemberMessages } from '../../activities/intercom/messages';
import type { IntercomWorkspace } from '../../activities/intercom/workspace';
import { startApiServer, type ApiServer } from '../../api/server';
import { loadConfig, type Config } from '../../lib/config';
import { createDb, migrate, type Db } from '../../lib/db';
import { createLogger, type Logger } from '../../lib/logger';
import { createMemberopsWorker, WORKFLOWS_PATH } from '../../worker/create-worker';
import { installTemporalRuntime } from '../../worker/temporal-runtime';
import type { AppDeps } from '../../api/app';
import type { DestinationStream } from 'pino';
import { deliverStripeEvent, type StripeEventJson } from '../../tools/testkit/stripe-events';
import { workspaceWithMessages } from './capture-messenger';
import { waitFor } from './wait-for';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Workflow code is bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: {
      log: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: console.error,
      debug: () => undefined,
      trace: () => undefined,
    } as never,
  });
  return bundle;
}

export function testEnv(): { temporalAddress: string; databaseUrl: string } {
  const temporalAddress = process.env['MEMBEROPS_TEST_TEMPORAL_ADDRESS'];
  const databaseUrl = process.env['MEMBEROPS_TEST_DATABASE_URL'];
  if (!temporalAddress || !databaseUrl)
    throw new Error('test global setup did not run (MEMBEROPS_TEST_* env vars missing)');
  return { temporalAddress, databaseUrl };
}

/** Status and body of a response, the body parsed as JSON when it is JSON (error pages stay text). */
export async function readJson(res: Response): Promise<{ status: number; body: any }> {
  // JSON of any endpoint
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

export interface HarnessOptions {
  env?: Record<string, string>;
  temporalAddress?: string;
  /** Member messages alone (a capture), when the test has no Intercom workspace. */
  messenger?: MemberMessages;
  stripe?: Stripe;
  /** The worker's Intercom workspace (CRM sync with INTERCOM_ACCESS_TOKEN, member messages, support). */
  intercom?: IntercomWorkspace;
  /** Don't start a worker (tests that run their own, e.g. in a child process). */
  noWorker?: boolean;
  appDeps?: Partial<AppDeps>;
  /** Where the API's and worker's log lines go (tests that read the logs); default: stdout. */
  logDestination?: DestinationStream;
}

export interface Harness {
  config: Config;
  db: Db;
  api: ApiServer;
  temporal: Client;
  log: Logger;
  worker?: Worker;
  /** Signs and POSTs a Stripe event to the webhook; returns the HTTP status and body. */
  post(
    event: StripeEventJson | string,
    opts?: { signature?: string | null; timestamp?: number },
  ): Promise<{ status: number; body: unknown }>;
  /** The app's API key (the first of API_KEYS). */
  apiKey: string;
  /** GET with the app's API key. */
  get(path: string): Promise<{ status: number; body: any }>; // JSON of any endpoint
  /** fetch() of an API path carrying the app's API key, as the app calls memberops. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  waitForStatus(memberId: string, status: string, timeoutMs?: number): Promise<any>; // JSON body
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const env = testEnv();
  const taskQueue = `memberops-test-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    STRIPE_WEBHOOK_SECRET: `whsec_test_${randomBytes(16).toString('hex')}`,
    API_KEYS: `mk_test_${randomBytes(24).toString('hex')}`,
    // Tests poll member routes from one address; the limit itself is tested with a small value.
    MEMBER_RATE_LIMIT_PER_MINUTE: '1000000',
    DATABASE_URL: env.databaseUrl,
    TEMPORAL_ADDRESS: opts.temporalAddress ?? env.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PORT: '0',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    // The suite shares one database: a sweep would hand other files' events to this file's task queue.
    STRIPE_REDRIVE_EVERY: '0',
    ...opts.env,
  });
  const log = createLogger({ level: config.logLevel, name: 'test', destination: opts.logDestination });
  // Core's reconnect warnings are expected noise in outage tests; errors still show.
  installTemporalRuntime(createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'error', name: 'temporal' }), 'ERROR');
  const db = createDb(config.databaseUrl as string, { statementTimeoutMs: config.containment.statementTimeoutMs });
  await migrate(db);
  const connection = await Connection.connect({ address: config.temporal.address as string });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const api = await startApiServer(config, { db, temporal, log, stripe: opts.stripe, ...opts.appDeps });

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  const startWorker = async (): Promise<void> => {
    nativeConnection = await NativeConnection.connect({ address: config.temporal.address as string });
    worker = await createMemberopsWorker({
      connection: nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      db,
      config,
      log,
      stripe: opts.stripe,
      intercom: opts.intercom ?? (opts.messenger ? workspaceWithMessages(opts.messenger) : undefined),
    });
    workerRun = worker.run();
  };
  const stopWorker = async (): Promise<void> => {
    if (!worker) return;
    worker.shutdown();
    await workerRun;
    await nativeConnection?.close();
    worker = undefined;
  };
  if (!opts.noWorker) await startWorker();

  const h: Harness = {
    config,
    db,
    api,
    temporal,
    log,
    get worker() {
      return worker;
    },
    async post(event, o = {}) {
      return readJson(await deliverStripeEvent(api.url, event, { ...o, secret: config.stripe.webhookSecret }));
    },
    apiKey: config.security.apiKeys[0] as string,
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${h.apiKey}`);
      return fetch(`${api.url}${path}`, { ...init, headers });
    },
    async get(path) {
      return readJson(await h.fetch(path));
    },
    async waitForStatus(memberId, status, timeoutMs = 20_000) {
      return waitFor(
        async () => {
          const r = await h.get(`/members/${encodeURIComponent(memberId)}`);
          return r.status === 200 && r.body.status === status ? r.body : undefined;
        },
        { timeoutMs, description: `member ${memberId} to reach ${status}` },
      );
    },
    stopWorker,
    startWorker,
    async close() {
      await stopWorker();
      await api.close();
      await connection.close();
      await db.close();
    },
  };
  return h;
}
