/** `npm run worker` apart from the API serves the activities' metrics on WORKER_METRICS_PORT, to app keys only. */
import { workerMetrics } from '../lib/metrics';
import { SDK_METRICS_AFTER_ONE_WORKFLOW, sdkMetricNames } from './helpers/sdk-metrics';
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
});
