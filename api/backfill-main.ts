/**
 * `npm run backfill`: hands every existing Stripe customer to memberops as a snapshot of Stripe's current state,
 * through the backfill workflow (a worker must be running: `npm start` or `npm run worker`). Prints progress until
 * the backfill finishes; interrupting this command leaves the workflow running.
 */
import { loadConfigOrExit } from '../lib/entry';
import { connectTemporalClient, temporalConnectionSettings } from '../lib/temporal';
import { backfillProgress, startBackfill } from './backfill';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'worker');
  if (!config.temporal.address) throw new Error('TEMPORAL_ADDRESS is not set (npm start prints the one it runs)');
  const temporal = await connectTemporalClient({
    namespace: config.temporal.namespace,
    ...temporalConnectionSettings(config.temporal),
  });
  const handle = await startBackfill(temporal, {
    taskQueue: config.temporal.taskQueue,
    requestsPerSecond: config.backfill.requestsPerSecond,
  });
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(`backfill ${handle.workflowId} at ${config.backfill.requestsPerSecond || 'unlimited'} Stripe requests/s`);
  const result = handle.result();
  let finished = false;
  void result.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    await new Promise((r) => setTimeout(r, 2000));
    if (finished) break;
    const p = await backfillProgress(handle).catch(() => undefined);
    if (p)
      out(`pages ${p.pages}  customers ${p.customers}  created ${p.created}  updated ${p.updated}  errors ${p.errors}`);
  }
  const p = await result;
  const seconds = (Date.parse(p.finishedAt ?? '') - Date.parse(p.startedAt)) / 1000;
  out(
    `done: ${p.customers} customers (${p.created} new, ${p.updated} existing) in ${seconds.toFixed(1)} s, ` +
      `${(p.customers / Math.max(seconds, 0.001)).toFixed(1)} customers/s, ${p.requests} Stripe requests, ${p.errors} retried`,
  );
  await temporal.connection.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`memberops backfill failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
