/** `npm run worker` apart from the API serves the activities' metrics on WORKER_METRICS_PORT, to app keys only. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { workerMetrics } from '../lib/metrics';
import { ScriptProcess, waitUntil } from '../tools/testkit/children';
import { testEnv } from './helpers/harness';
import { parseMetrics } from './helpers/metrics';
import { freePort, SDK_METRICS_AFTER_ONE_WORKFLOW, sdkMetricNames } from './helpers/sdk-metrics';
import { startWorkerMetricsServer, type WorkerMetricsServer } from '../worker/metrics-server';

describe('worker metrics endpoint', () => {
  let server: WorkerMetricsServer;
  const key = 'mk_test_worker_metrics_key_0123456789abcdef';
  beforeAll(async () => {
    workerMetrics();
    server = await startWorkerMetricsServer(0, [key]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("serves the worker's figures to a scraper carrying an app key", async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [
      'memberops_projection_writes_total',
      'memberops_dunning_cycles_total',
      'memberops_member_notices_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
  });

  it('refuses a scrape without a key or with a wrong one', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(401);
    const wrong = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('answers /readyz from whether the worker polls and reaches Temporal; the checks only with a key', async () => {
    let polling = true;
    let temporal = true;
    const ready = await startWorkerMetricsServer(0, [key], {
      polling: () => polling,
      temporal: async () => {
        if (!temporal) throw new Error('connection refused');
        return true;
      },
    });
    try {
      const get = (auth?: string) =>
        fetch(`http://127.0.0.1:${ready.port}/readyz`, auth ? { headers: { authorization: `Bearer ${auth}` } } : {});
      let res = await get();
      expect([res.status, await res.json()]).toEqual([200, { status: 'ready' }]);
      res = await get(key);
      expect(await res.json()).toEqual({ status: 'ready', checks: { polling: 'ok', temporal: 'ok' } });
      temporal = false;
      res = await get(key);
      expect([res.status, await res.json()]).toEqual([
        503,
        { status: 'unavailable', checks: { polling: 'ok', temporal: 'unreachable' } },
      ]);
      polling = false;
      temporal = true;
      res = await get();
      expect([res.status, await res.json()]).toEqual([503, { status: 'unavailable' }]);
      res = await get('wrong');
      expect(await res.json()).toEqual({ status: 'unavailable' });
      res = await get(key);
      expect(await res.json()).toEqual({ status: 'unavailable', checks: { polling: 'not polling', temporal: 'ok' } });
    } finally {
      await ready.close();
    }
  });

  it('refuses to start without API keys', async () => {
    await expect(startWorkerMetricsServer(0, [])).rejects.toThrow(/WORKER_METRICS_PORT needs API_KEYS/);
  });
});

describe("the Temporal SDK's own worker metrics", () => {
  it('serves the task slots, pollers, task latencies and request latencies of `npm run worker` on TEMPORAL_METRICS_ADDRESS', async () => {
    const names = await sdkMetricNames();
    for (const n of [...SDK_METRICS_AFTER_ONE_WORKFLOW, 'temporal_request_latency_bucket']) expect(names).toContain(n);
    expect([...names].some((n) => n.startsWith('temporal_') && n.endsWith('_total'))).toBe(true);
  }, 120_000);

  it('answers /readyz of `npm run worker` on WORKER_METRICS_PORT: polling and Temporal reachable, detail with a key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'worker-sdk-metrics-'));
    const port = await freePort();
    const healthPort = await freePort();
    const key = 'mk_test_worker_readyz_key_0123456789abcdef';
    const { temporalAddress, databaseUrl } = testEnv();
    const worker = new ScriptProcess('worker', 'worker/main.ts', {
      cwd: dir,
      logFile: path.join(dir, 'worker.log'),
      env: {
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_TASK_QUEUE: `sdk-metrics-${randomBytes(4).toString('hex')}`,
        TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${port}`,
        WORKER_METRICS_PORT: String(healthPort),
        API_KEYS: key,
        STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
        LOG_LEVEL: 'warn',
      },
    });
    worker.start();
    try {
      let names = new Set<string>();
      await waitUntil(
        'the SDK exporter to report slots, pollers and request latencies',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch((err: Error) => {
            throw new Error(`GET /metrics: ${String((err.cause as Error | undefined)?.message ?? err.message)}`);
          });
          names = new Set(parseMetrics(await res.text()).map((s) => s.name));
          // Task latencies and the sticky cache size appear once the worker has run a workflow task.
          return [
            'temporal_worker_task_slots_available',
            'temporal_num_pollers',
            'temporal_request_latency_bucket',
          ].every((n) => names.has(n));
        },
        { timeoutMs: 30_000, intervalMs: 250, children: [worker] },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nworker log:\n${worker.tail()}`);
      });
      // The worker's own readiness: polling, Temporal reachable (the checks for a caller with a key).
      const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect([ready.status, await ready.json()]).toEqual([
        200,
        { status: 'ready', checks: { polling: 'ok', temporal: 'ok' } },
      ]);
      expect([...names].some((n) => n.startsWith('temporal_') && n.endsWith('_total'))).toBe(true);
    } finally {
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
