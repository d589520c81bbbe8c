/**
 * docker-compose.yml's Temporal against what the production rehearsal runs: the same server release, the same
 * temporal-sql-tool steps over the same schema directories, the same namespace and search attributes. No Docker
 * engine runs in CI, so the file's contents are what is checked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../lib/config';
import { SEARCH_ATTRIBUTES } from '../lib/search-attributes';
import {
  POSTGRES_SCHEMA_SUBDIR,
  schemaCommands,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_STORES,
} from '../tools/testkit/temporal-server';

interface Service {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
  healthcheck?: { test: string[] };
}

const compose = YAML.parse(readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const service = (name: string): Service => {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
/** The shell script a job runs (`entrypoint: sh -ec`, `command: [script]`). */
const script = (name: string): string => (service(name).command ?? []).join('\n');
const appNamespace = loadConfig(
  { ...service('worker').environment, STRIPE_WEBHOOK_SECRET: 'whsec_x' },
  { part: 'worker' },
).temporal.namespace;

describe('docker-compose.yml Temporal services', () => {
  it('runs the Temporal server release the test kit builds, with admin-tools of the same release', () => {
    expect(service('temporal').image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(service('temporal-schema').image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    expect(service('temporal-namespace').image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    const images = Object.values(compose.services).map((s) => s.image ?? '');
    expect(images).not.toEqual(expect.arrayContaining([expect.stringMatching(/auto-setup/)]));
  });

  it('creates and migrates both stores with the same temporal-sql-tool steps and schema directories as the rehearsal', () => {
    const env = service('temporal').environment ?? {};
    const databases = { default: env['DBNAME'], visibility: env['VISIBILITY_DBNAME'] };
    const pg = { host: env['POSTGRES_SEEDS'] ?? '', port: Number(env['DB_PORT']), user: env['POSTGRES_USER'] ?? '' };
    const schemaDir = `/etc/temporal/${POSTGRES_SCHEMA_SUBDIR}`;
    for (const { store, schema } of TEMPORAL_STORES) {
      for (const args of schemaCommands(pg, databases[store] ?? '', schemaDir, schema)) {
        expect(script('temporal-schema')).toContain(`temporal-sql-tool ${args.join(' ')}`);
      }
    }
    expect(script('temporal-schema').match(/temporal-sql-tool /g)).toHaveLength(3 * TEMPORAL_STORES.length);
    expect(service('temporal-schema').environment?.['SQL_PASSWORD']).toBe(env['POSTGRES_PWD']);
  });

  it('starts the server only after the schema job succeeded, and the app only after the namespace job', () => {
    expect(service('temporal').depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    expect(service('temporal-namespace').depends_on?.['temporal']?.condition).toBe('service_healthy');
    for (const name of ['api', 'worker']) {
      expect(service(name).depends_on?.['temporal-namespace']?.condition).toBe('service_completed_successfully');
    }
  });

  it('registers the namespace the app uses and exactly the search attributes memberops writes', () => {
    const setup = script('temporal-namespace');
    expect(setup).toContain(`temporal operator namespace create --namespace ${appNamespace}`);
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      expect(setup).toContain(
        `temporal operator search-attribute create --namespace ${appNamespace} --name ${name} --type ${type}`,
      );
    }
    expect(setup.match(/search-attribute create/g)).toHaveLength(Object.keys(SEARCH_ATTRIBUTES).length);
  });

  it('health-checks the server with the Temporal CLI and publishes Temporal ports on 127.0.0.1 only', () => {
    expect(service('temporal').healthcheck?.test.slice(1, 5)).toEqual(['temporal', 'operator', 'cluster', 'health']);
    expect(service('temporal').ports).toEqual(['127.0.0.1:7233:7233']);
    expect(service('temporal-ui').ports).toEqual(['127.0.0.1:8233:8080']);
  });
});
