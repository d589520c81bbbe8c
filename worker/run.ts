/** Builds clients from the config and runs the worker (used by `npm run worker` and `npm start`). */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createIntercomWorkspace } from '../activities/intercom/workspace';
import { ensureSearchAttributes } from '../lib/search-attributes';
import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createIntercomClient, createStripeClient } from '../lib/clients';
import { temporalConnectionSettings } from '../lib/temporal';
import { createMemberopsWorker } from './create-worker';
import { ensureReconcileSchedule, RECONCILE_SCHEDULE_ID } from './reconcile-schedule';
import { installTemporalRuntime } from './temporal-runtime';

export async function buildWorker(config: Config, db: Db, log: Logger): Promise<{ worker: Worker; connection: NativeConnection }> {
  const settings = temporalConnectionSettings(config.temporal);
  installTemporalRuntime(log, 'WARN', { metricsAddress: config.temporal.metricsAddress });
  // Any Temporal server (dev server reopening its db file, a self-hosted cluster): register the attributes idempotently.
  const admin = await Connection.connect(settings);
  try {
    await ensureSearchAttributes(admin, config.temporal.namespace, (m) => log.info(m));
    if (config.stripe.secretKey) {
      const client = new Client({ connection: admin, namespace: config.temporal.namespace });
      const everyMs = config.reconcile.everyMs;
      const outcome = await ensureReconcileSchedule(client, { taskQueue: config.temporal.taskQueue, everyMs });
      log.info({ schedule: RECONCILE_SCHEDULE_ID, outcome, everyMs }, 'reconciliation schedule');
    }
  } finally {
    await admin.close();
  }
  const connection = await NativeConnection.connect(settings);
  const stripe = config.stripe.secretKey
    ? createStripeClient({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase })
    : undefined;
  // One Intercom client and one workspace for the whole worker: CRM sync, notices and support share its cache.
  const intercom = config.intercom.accessToken
    ? createIntercomWorkspace({
        client: createIntercomClient({ token: config.intercom.accessToken, baseUrl: config.intercom.baseUrl }),
        db,
        log,
        adminId: config.intercom.adminId,
      })
    : undefined;
  if (!intercom) log.info('CRM sync is off: INTERCOM_ACCESS_TOKEN is not set (notices are logged, not sent)');
  if (!stripe) log.info('Stripe API calls are off: STRIPE_SECRET_KEY is not set (no portal links, no cancel_in_stripe)');
  const worker = await createMemberopsWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    tuning: config.workerTuning,
    db,
    config,
    log,
    stripe,
    intercom,
  });
  return { worker, connection };
}
