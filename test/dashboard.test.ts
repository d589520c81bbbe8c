/**
 * The Grafana dashboard (ops/grafana/memberops.json) shows the playbook's figures from metrics memberops exports, and
 * the Temporal worker's health from the metrics its SDK runtime really serves (a worker started with the exporter).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exportedMetricNames, queriedMetricNames, queriedSdkMetricNames } from './helpers/metrics';
import { sdkMetricNames } from './helpers/sdk-metrics';

interface Panel {
  title: string;
  targets: Array<{ expr: string }>;
}

const dashboard = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'ops', 'grafana', 'memberops.json'), 'utf8'),
) as { uid: string; panels: Panel[] };

describe('Grafana dashboard', () => {
  it('queries only metrics memberops exports', async () => {
    const exported = await exportedMetricNames();
    const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(queries.length).toBeGreaterThan(0);
    const unknown = queries.flatMap((q) => queriedMetricNames(q).filter((n) => !exported.has(n)).map((n) => `${n} in ${q}`));
    expect(unknown).toEqual([]);
  });

  it("queries only Temporal SDK metrics the worker's exporter serves", async () => {
    const exported = await sdkMetricNames();
    const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const sdk = queries.flatMap((q) => queriedSdkMetricNames(q));
    expect(sdk).toEqual(
      expect.arrayContaining([
        'temporal_num_pollers',
        'temporal_worker_task_slots_available',
        'temporal_workflow_task_schedule_to_start_latency_bucket',
        'temporal_sticky_cache_size',
      ]),
    );
    const unknown = queries.flatMap((q) =>
      queriedSdkMetricNames(q)
        .filter((n) => !exported.has(n))
        .map((n) => `${n} in ${q}`),
    );
    expect(unknown).toEqual([]);
  }, 120_000);

  it('has a panel for each figure the playbook asks to track', () => {
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Failed webhooks per hour',
        'Sync lag p95',
        'Failed email sends per hour',
        'Checkout completion rate',
        'Failed payment recovery rate',
        'Support ticket volume',
        'Admin action frequency',
      ]),
    );
    for (const p of dashboard.panels) {
      expect(p.targets.every((t) => t.expr.includes('memberops_') || t.expr.includes('temporal_'))).toBe(true);
    }
  });
});
