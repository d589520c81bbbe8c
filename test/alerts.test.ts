/**
 * The alert rules a founder reads and changes (ops/prometheus/alerts.yml): valid for Prometheus, each alert firing and
 * not firing in promtool's unit tests, and querying only metrics memberops really exports.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exportedMetricNames, queriedMetricNames, queriedSdkMetricNames } from './helpers/metrics';
import { sdkMetricNames } from './helpers/sdk-metrics';

const DIR = path.join(__dirname, '..', 'ops', 'prometheus');
const RULES = path.join(DIR, 'alerts.yml');
/** Minute-by-minute tests, and the hourly ones for alerts that look back up to 7 days. */
const RULE_TESTS = ['alerts.test.yml', 'alerts.weekly.test.yml'].map((f) => path.join(DIR, f));

/** Runs promtool; a machine without it fails with how to get it, not with ENOENT. */
function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'promtool is not on PATH: install Debian\'s "prometheus" package (apt-get install -y prometheus), as .ci/run does',
    );
  }
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('alert rules', () => {
  it('are valid Prometheus rules', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('fire and stay quiet as their promtool unit tests expect', () => {
    const r = promtool('test', 'rules', ...RULE_TESTS);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('have a firing and a quiet unit test for every alert', () => {
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1] as string);
    const tests = RULE_TESTS.map((f) => readFileSync(f, 'utf8')).join('\n');
    const cases = [...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:( \[\])?/g)].map((m) => `${m[1]}:${m[2] ? 'quiet' : 'fires'}`);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const a of alerts) expect(cases).toEqual(expect.arrayContaining([`${a}:fires`, `${a}:quiet`]));
  });

  it('query only metrics memberops exports', async () => {
    const exported = await exportedMetricNames();
    expect(queriedMetricNames(readFileSync(RULES, 'utf8')).filter((n) => !exported.has(n))).toEqual([]);
  });

  it("query only Temporal SDK metrics the worker's exporter serves", async () => {
    const exported = await sdkMetricNames();
    const queried = queriedSdkMetricNames(readFileSync(RULES, 'utf8'));
    expect(queried).toContain('temporal_num_pollers');
    expect(queried.filter((n) => !exported.has(n))).toEqual([]);
  }, 120_000);
});
