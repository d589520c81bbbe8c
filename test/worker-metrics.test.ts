/** `npm run worker` apart from the API serves the activities' metrics on WORKER_METRICS_PORT, to app keys only. */
import { workerMetrics } from '../lib/metrics';
import { waitUntil } from '../tools/testkit/children';
import { freePort, SDK_METRICS_AFTER_ONE_WORKFLOW, sdkMetricNames, startExportingWorker } from './helpers/sdk-metrics';
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
    const healthPort = await freePort();
    const key = 'mk_test_worker_readyz_key_0123456789abcdef';
    const exporting = await startExportingWorker({ WORKER_METRICS_PORT: String(healthPort), API_KEYS: key });
    const { worker } = exporting;
    try {
      let names = new Set<string>();
      await waitUntil(
        'the SDK exporter to report slots, pollers and request latencies',
        async () => {
          names = new Set((await exporting.samples()).map((s) => s.name));
          // Task latencies and the sticky cache size appear once the worker has run a workflow task.
          return [
            'temporal_worker_task_slots_available',
            'temporal_num_pollers',
            'temporal_request_latency_bucket',
          ].every((n) => names.has(n));
        },
        { timeoutMs: 60_000, intervalMs: 250, children: [worker] },
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
      await exporting.stop();
    }
  }, 120_000);
});
