/**
 * docker-compose.yml's monitoring: Prometheus scrapes the API with an app key and evaluates the alert rules, Grafana is
 * provisioned with Prometheus and the dashboard. Checked with promtool and against the compose file (no Docker here).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

const ROOT = path.join(__dirname, '..');
const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');

interface Service {
  volumes?: string[];
  secrets?: string[];
  environment?: Record<string, string>;
  ports?: string[];
}
const compose = YAML.parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  secrets?: Record<string, { environment?: string }>;
};
const prometheusConfig = YAML.parse(read('ops/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: Array<{
    job_name: string;
    metrics_path: string;
    authorization: { type: string; credentials_file: string };
    static_configs: Array<{ targets: string[] }>;
  }>;
};

/** Where compose mounts a file of this repository in a service. */
function mountOf(service: string, file: string): string | undefined {
  const volume = compose.services[service]?.volumes?.find((v) => v.startsWith(`./${file}:`));
  return volume?.split(':')[1];
}

describe('monitoring in docker-compose.yml', () => {
  it('scrapes the API port with a bearer key from a compose secret, as the job the alerts watch', () => {
    const [job] = prometheusConfig.scrape_configs;
    expect(job?.job_name).toBe('memberops');
    expect(read('ops/prometheus/alerts.yml')).toContain(`up{job="${job?.job_name}"}`);
    expect(job?.static_configs[0]?.targets).toEqual([`api:${compose.services['api']?.environment?.['PORT']}`]);
    expect(job?.authorization).toEqual({ type: 'Bearer', credentials_file: '/run/secrets/metrics_api_key' });
    expect(compose.services['prometheus']?.secrets).toEqual(['metrics_api_key']);
    expect(compose.secrets?.['metrics_api_key']).toEqual({ environment: 'METRICS_API_KEY' });
    expect(read('.env.example')).toMatch(/^# METRICS_API_KEY=/m);
  });

  it("scrapes the worker's own metrics port with the same key", () => {
    const worker = prometheusConfig.scrape_configs.find((j) => j.job_name === 'memberops-worker');
    expect(worker?.static_configs[0]?.targets).toEqual([
      `worker:${compose.services['worker']?.environment?.['WORKER_METRICS_PORT']}`,
    ]);
    expect(worker?.authorization).toEqual(prometheusConfig.scrape_configs[0]?.authorization);
  });

  it("scrapes the Temporal SDK's worker metrics on the address the worker exports them, unpublished", () => {
    const sdk = prometheusConfig.scrape_configs.find((j) => j.job_name === 'temporal-worker-sdk');
    const address = compose.services['worker']?.environment?.['TEMPORAL_METRICS_ADDRESS'];
    expect(address).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(sdk?.static_configs[0]?.targets).toEqual([`worker:${address?.split(':')[1]}`]);
    expect(compose.services['worker']?.ports).toBeUndefined();
  });

  it('gives Prometheus a valid config with the alert rules mounted beside it', () => {
    expect(mountOf('prometheus', 'ops/prometheus/prometheus.yml')).toBe('/etc/prometheus/prometheus.yml');
    expect(mountOf('prometheus', 'ops/prometheus/alerts.yml')).toBe(`/etc/prometheus/${prometheusConfig.rule_files[0]}`);
    // promtool wants the key file to exist: check a copy whose key lives in a temporary directory.
    const dir = mkdtempSync(path.join(tmpdir(), 'memberops-prometheus-'));
    writeFileSync(path.join(dir, 'key'), 'mk_test_key\n');
    copyFileSync(path.join(ROOT, 'ops/prometheus/alerts.yml'), path.join(dir, 'alerts.yml'));
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      read('ops/prometheus/prometheus.yml').replaceAll('/run/secrets/metrics_api_key', path.join(dir, 'key')),
    );
    const r = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    if (r.error) throw new Error(`promtool could not run (install Debian's "prometheus" package): ${r.error.message}`);
    const rules = (YAML.parse(read('ops/prometheus/alerts.yml')) as { groups: Array<{ rules: unknown[] }> }).groups.flatMap(
      (g) => g.rules,
    );
    expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('provisions Grafana with the compose Prometheus and the memberops dashboard', () => {
    const datasources = YAML.parse(read('ops/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: Array<{ url: string; type: string; isDefault: boolean }>;
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
    ]);
    expect(mountOf('grafana', 'ops/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const dashboards = YAML.parse(read('ops/grafana/provisioning/dashboards/memberops.yml')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const dashboardMount = mountOf('grafana', 'ops/grafana/memberops.json');
    expect(path.dirname(dashboardMount ?? '')).toBe(dashboards.providers[0]?.options.path);
  });

  it('publishes Prometheus and Grafana to this host only', () => {
    expect(compose.services['prometheus']?.ports).toEqual(['127.0.0.1:9090:9090']);
    expect(compose.services['grafana']?.ports).toEqual(['127.0.0.1:3001:3000']);
  });
});
