/** Reads GET /metrics as Prometheus scrapes it, with the app's API key. */
import { register } from 'prom-client';
import { createMetrics, workerMetrics } from '../../lib/metrics';
import { reconcileMetrics } from '../../lib/reconcile-metrics';
import type { Harness } from './harness';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (samples only; comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels` (0 when none was recorded yet). */
export async function metricValue(h: Harness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await h.fetch('/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parseMetrics(await res.text())
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Reads several metrics at once, keyed as given, to compare before and after. */
export async function snapshot<K extends string>(
  h: Harness,
  wanted: Record<K, [string, Record<string, string>?]>,
): Promise<Record<K, number>> {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(wanted) as K[]) {
    const [name, labels] = wanted[key];
    out[key] = await metricValue(h, name, labels);
  }
  return out;
}

/** Every sample name memberops exports (the API's registry and the worker's; histograms with their series), and `up`. */
export async function exportedMetricNames(): Promise<Set<string>> {
  workerMetrics();
  reconcileMetrics();
  const metrics = [...(await createMetrics().registry.getMetricsAsJSON()), ...(await register.getMetricsAsJSON())];
  const names = new Set<string>(['up']);
  for (const m of metrics) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(`${m.name}${s}`);
  }
  return names;
}

/** The memberops metric names a PromQL text (rules, dashboard queries) refers to. */
export function queriedMetricNames(promql: string): string[] {
  return [...new Set(promql.match(/\bmemberops_[a-z_]+/g) ?? [])];
}

/** The Temporal SDK metric names a PromQL text refers to (the worker's exporter: test/helpers/sdk-metrics.ts). */
export function queriedSdkMetricNames(promql: string): string[] {
  return [...new Set(promql.match(/\btemporal_[a-z_]+/g) ?? [])];
}
