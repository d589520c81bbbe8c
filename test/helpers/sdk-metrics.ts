/**
 * The Temporal SDK's own worker metrics as `npm run worker` really exports them on TEMPORAL_METRICS_ADDRESS: starts
 * the worker with the exporter, runs one workflow (a workflow task and an activity task) on its task queue, and reads
 * the sample names back. The Rust exporter only lists a metric once it was recorded, hence the workflow.
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScriptProcess, waitUntil } from '../../tools/testkit/children';
import { testEnv } from './harness';
import { parseMetrics, type Sample } from './metrics';

/** A port the OS just handed out as free (the Rust exporter cannot report the port it got for :0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Series that appear once the worker has polled, run a workflow task and an activity task. The execution latencies
 * are recorded when a task completes, after its schedule-to-start: waiting on them too means the activity's attempt
 * has finished, not only started, when the samples are read.
 */
export const SDK_METRICS_AFTER_ONE_WORKFLOW = [
  'temporal_num_pollers',
  'temporal_worker_task_slots_available',
  'temporal_workflow_task_schedule_to_start_latency_bucket',
  'temporal_workflow_task_execution_latency_bucket',
  'temporal_activity_schedule_to_start_latency_bucket',
  'temporal_activity_execution_latency_bucket',
  'temporal_sticky_cache_size',
];

/** Every sample name (histograms with their _bucket/_sum/_count series) the worker's SDK exporter serves. */
export async function sdkMetricNames(): Promise<Set<string>> {
  return new Set((await sdkMetricSamples()).map((s) => s.name));
}

/** `npm run worker` as a child process with the SDK exporter on a free port, on a task queue of its own. */
export interface ExportingWorker {
  worker: ScriptProcess;
  taskQueue: string;
  /** The exporter's samples now. */
  samples(): Promise<Sample[]>;
  stop(): Promise<void>;
}

export async function startExportingWorker(env: Record<string, string> = {}): Promise<ExportingWorker> {
  const dir = await mkdtemp(path.join(tmpdir(), 'worker-sdk-metrics-'));
  const port = await freePort();
  const { temporalAddress, databaseUrl } = testEnv();
  const taskQueue = `sdk-metrics-${randomBytes(4).toString('hex')}`;
  const worker = new ScriptProcess('worker', 'worker/main.ts', {
    cwd: dir,
    logFile: path.join(dir, 'worker.log'),
    env: {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${port}`,
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  worker.start();
  return {
    worker,
    taskQueue,
    async samples() {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch((err: Error) => {
        throw new Error(`GET /metrics: ${String((err.cause as Error | undefined)?.message ?? err.message)}`);
      });
      return parseMetrics(await res.text());
    },
    async stop() {
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The samples the worker's SDK exporter serves after one workflow ran. */
export async function sdkMetricSamples(): Promise<Sample[]> {
  const exporting = await startExportingWorker();
  const { worker, taskQueue } = exporting;
  const connection = await Connection.connect({ address: testEnv().temporalAddress });
  try {
    // Without a Stripe key the reconciliation activity fails: a workflow task and an activity task all the same.
    const handle = await new Client({ connection }).workflow.start('reconcileWorkflow', {
      taskQueue,
      workflowId: `sdk-metrics-${randomBytes(4).toString('hex')}`,
      workflowExecutionTimeout: '2 minutes',
    });
    let samples: Sample[] = [];
    let names = new Set<string>();
    try {
      await waitUntil(
        'the SDK exporter to report pollers, slots, task latencies and the sticky cache',
        async () => {
          samples = await exporting.samples();
          names = new Set(samples.map((s) => s.name));
          return SDK_METRICS_AFTER_ONE_WORKFLOW.every((n) => names.has(n));
        },
        { timeoutMs: 60_000, intervalMs: 250, children: [worker] },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nnames so far: ${[...names].join(' ')}\nworker log:\n${worker.tail()}`);
      });
    } finally {
      await handle.terminate('metrics read').catch(() => undefined);
    }
    return samples;
  } finally {
    await exporting.stop();
    await connection.close();
  }
}
