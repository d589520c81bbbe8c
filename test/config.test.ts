import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, envSchema, loadConfig } from '../lib/config';

const ROOT = path.join(__dirname, '..');
const base = { STRIPE_WEBHOOK_SECRET: 'whsec_test' };
/** What .env adds to the compose environment in production (the credentials compose must not carry). */
const dotEnvSecrets = {
  STRIPE_WEBHOOK_SECRET: 'whsec_x',
  API_KEYS: '0123456789abcdef0123456789abcdef',
  ADMIN_EMAIL: 'founder@community.test',
  ADMIN_PASSWORD_HASH: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
  SESSION_SECRET: 'fedcba9876543210fedcba9876543210',
};

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      port: 3000,
      temporal: { namespace: 'default', taskQueue: 'memberops' },
      dunning: { gracePeriodMs: 3 * 86_400_000, remindersMs: [0, 3 * 86_400_000, 7 * 86_400_000], cancelAfterMs: 14 * 86_400_000, finalAction: 'mark_canceled' },
      workerTuning: { stickyQueueScheduleToStartTimeoutMs: 20_000 },
    });
    expect(loadConfig({ ...base, WORKER_STICKY_QUEUE_TIMEOUT: '1m' }).workerTuning.stickyQueueScheduleToStartTimeoutMs).toBe(60_000);
  });

  it('parses durations in the Temporal / ms string form', () => {
    const c = loadConfig({ ...base, DUNNING_GRACE_PERIOD: '10s', DUNNING_REMINDERS: '3 days, 0s', DUNNING_CANCEL_AFTER: '2 weeks' });
    expect(c.dunning).toMatchObject({ gracePeriodMs: 10_000, remindersMs: [0, 3 * 86_400_000], cancelAfterMs: 14 * 86_400_000 });
  });

  it.each([
    [{}, 'STRIPE_WEBHOOK_SECRET'],
    [{ ...base, PORT: 'eighty' }, 'PORT'],
    [{ ...base, DUNNING_GRACE_PERIOD: 'soon' }, 'DUNNING_GRACE_PERIOD'],
    [{ ...base, DUNNING_REMINDERS: '0s,whenever' }, 'DUNNING_REMINDERS'],
    [{ ...base, DUNNING_FINAL_ACTION: 'delete' }, 'DUNNING_FINAL_ACTION'],
    [{ ...base, DUNNING_GRACE_PERIOD: '5 days', DUNNING_CANCEL_AFTER: '1 day' }, 'DUNNING_CANCEL_AFTER'],
    [{ ...base, INTERCOM_BASE_URL: 'not a url' }, 'INTERCOM_BASE_URL'],
    [{ ...base, DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
    [{ ...base, WORKER_STICKY_QUEUE_TIMEOUT: '0s' }, 'WORKER_STICKY_QUEUE_TIMEOUT'],
    [{ ...base, WORKER_STICKY_QUEUE_TIMEOUT: '1 hour' }, 'WORKER_STICKY_QUEUE_TIMEOUT'],
    [{ ...base, NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_test_123' }, 'STRIPE_SECRET_KEY'],
  ])('refuses a bad value and names the variable (%o → %s)', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration:\\n(.*\\n)*  ${variable}: `, 'm'));
  });

  it('accepts a live key in production', () => {
    expect(loadConfig({ ...base, ...dotEnvSecrets, NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_123' }).stripe.secretKey).toBe('sk_live_123');
  });

  it('documents every variable in .env.example and the README', () => {
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const key of Object.keys(envSchema.shape)) {
      expect({ key, inExample: new RegExp(`^#? ?${key}=`, 'm').test(example) }).toEqual({ key, inExample: true });
      expect({ key, inReadme: readme.includes(`\`${key}\``) }).toEqual({ key, inReadme: true });
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string; build?: unknown; environment?: Record<string, string>; ports?: string[]; depends_on?: unknown; command?: string[] }>;
  };

  /** A service's environment as compose gives it without a .env: `${NAME:-default}` becomes its default. */
  function composeEnv(name: string): Record<string, string> {
    return Object.fromEntries(
      Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [k, String(v).replace(/^\$\{\w+:-(.*)\}$/, '$1')]),
    );
  }

  it('runs PostgreSQL, a Temporal server on it, the Temporal UI, memberops API and worker, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'grafana',
      'postgres',
      'prometheus',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    expect(compose.services['temporal']?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(compose.services['api']?.command).toEqual(['node', 'dist/api/main.js']);
    expect(compose.services['worker']?.command).toEqual(['node', 'dist/worker/main.js']);
  });

  it('gives the API and worker environments that the config accepts, pointing at the compose services', () => {
    for (const name of ['api', 'worker']) {
      const env = { ...composeEnv(name), ...(name === 'api' ? dotEnvSecrets : { STRIPE_WEBHOOK_SECRET: 'whsec_x' }) };
      const config = loadConfig(env, { part: name === 'api' ? 'api' : 'worker' });
      expect(config.databaseUrl).toMatch(/@postgres:5432\//);
      expect(config.temporal.address).toBe('temporal:7233');
      for (const key of Object.keys(compose.services[name]?.environment ?? {})) {
        expect(Object.keys(envSchema.shape)).toContain(key);
      }
    }
  });

  it('publishes the API port the config uses, and the Temporal frontend and the UI on 8233 to this host only', () => {
    const apiPort = loadConfig({ ...composeEnv('api'), ...dotEnvSecrets }).port;
    expect(compose.services['api']?.ports).toContain(`${apiPort}:${apiPort}`);
    // Anyone reaching 7233 could signal member workflows without a Stripe signature; the UI shows member emails.
    expect(compose.services['temporal']?.ports).toEqual(['127.0.0.1:7233:7233']);
    expect(compose.services['temporal-ui']?.ports).toEqual(['127.0.0.1:8233:8080']);
    expect(compose.services['temporal-ui']?.environment?.['TEMPORAL_ADDRESS']).toBe('temporal:7233');
  });

  it('builds memberops from the Dockerfile, whose commands exist in the build', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/COPY db db/);
    expect(compose.services['api']?.build).toBe('.');
  });
});
