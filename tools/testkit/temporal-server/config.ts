import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { PgEndpoint, TemporalStore } from './schema';

/** The ports one server process binds, all on 127.0.0.1. */
export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

export const PORT_NAMES: ReadonlyArray<keyof ServerPorts> = [
  'frontend',
  'frontendHttp',
  'frontendMembership',
  'history',
  'historyMembership',
  'matching',
  'matchingMembership',
  'worker',
  'workerMembership',
];

export interface ServerConfigOptions {
  pg: PgEndpoint;
  databases: Record<TemporalStore, string>;
  ports: ServerPorts;
  /** History shards; fixed for the life of the databases. */
  numHistoryShards: number;
  /** Connection pool of the default store (the visibility pool gets a quarter of it). */
  maxConns: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Name of the environment (`--env`), so the config file is `<root>/config/<CONFIG_ENV>.yaml`. */
export const CONFIG_ENV = 'memberops';

/**
 * Dynamic config for a small single-host cluster. One task-queue partition: with a handful of workers, four partitions
 * only spread pollers thin. Search attributes are read fresh so a just-registered one is usable at once.
 */
const DYNAMIC_CONFIG = {
  'matching.numTaskqueueReadPartitions': [{ value: 1 }],
  'matching.numTaskqueueWritePartitions': [{ value: 1 }],
  'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }],
  'system.namespaceCacheRefreshInterval': [{ value: '2s' }],
  'frontend.enableUpdateWorkflowExecution': [{ value: true }],
  'limit.maxIDLength': [{ value: 255 }],
};

/** Writes `<root>/config/memberops.yaml` and `<root>/config/dynamicconfig.yaml`; v1.29 has no --config-file. */
export async function writeServerConfig(root: string, o: ServerConfigOptions): Promise<void> {
  const configDir = path.join(root, 'config');
  await fs.mkdir(configDir, { recursive: true });
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig.yaml');
  await fs.writeFile(dynamicConfigFile, YAML.stringify(DYNAMIC_CONFIG));

  const store = (databaseName: string, maxConns: number): Record<string, unknown> => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${o.pg.host}:${o.pg.port}`,
      connectProtocol: 'tcp',
      user: o.pg.user,
      password: o.pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}): unknown => ({
    rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1', ...extra },
  });
  const config = {
    log: { stdout: true, level: o.logLevel },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: o.numHistoryShards,
      datastores: {
        'postgres-default': store(o.databases.default, o.maxConns),
        'postgres-visibility': store(o.databases.visibility, Math.max(2, Math.round(o.maxConns / 4))),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      // Port 0: no pprof listener (one fewer port to collide on a shared machine).
      pprof: { port: 0 },
    },
    services: {
      frontend: service(o.ports.frontend, o.ports.frontendMembership, { httpPort: o.ports.frontendHttp }),
      history: service(o.ports.history, o.ports.historyMembership),
      matching: service(o.ports.matching, o.ports.matchingMembership),
      worker: service(o.ports.worker, o.ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${o.ports.frontend}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
  // The file holds the database password: readable by this user only.
  await fs.writeFile(path.join(configDir, `${CONFIG_ENV}.yaml`), YAML.stringify(config), { mode: 0o600 });
}
