import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../../../lib/search-attributes';
import { canConnect, delay, findFreePort, readTail, spawnServerProcess, type ServerProcess } from '../server-process';
import type { TemporalServerBinaries } from './build';
import { CONFIG_ENV, PORT_NAMES, writeServerConfig, type ServerPorts } from './config';
import { dropTemporalDatabases, pgEndpoint, setupTemporalDatabases, type PgEndpoint, type TemporalStore } from './schema';

export interface TemporalServerOptions {
  binaries: TemporalServerBinaries;
  /** Superuser connection string of the PostgreSQL server that holds both stores. */
  pgUrl: string;
  /** Database name prefix: `<prefix>` and `<prefix>_visibility`. Default: unique per start (`temporal_<random>`). */
  databasePrefix?: string;
  /** Drop both databases on `stop()` (for tests). Default false. */
  dropOnStop?: boolean;
  /** Namespace created and given the memberops search attributes. Default `default`. */
  namespace?: string;
  /** gRPC frontend port; 0 or unset picks a free one. The internal ports are always picked free. */
  port?: number;
  /** Config dir root and log file live here. Default: a new directory under the OS temp dir. */
  rootDir?: string;
  numHistoryShards?: number;
  /** Connection pool of the history store. Default 20. */
  maxConns?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Progress messages of this wrapper. */
  log?: (msg: string) => void;
  /** Deadline for the frontend to answer after launch. Default 60 s (cluster membership takes a few seconds). */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 15 s. */
  stopTimeoutMs?: number;
}

interface Settings {
  server: string;
  root: string;
  logFile: string;
  pg: PgEndpoint;
  databases: Record<TemporalStore, string>;
  ports: ServerPorts;
  namespace: string;
  log: (msg: string) => void;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

/**
 * A `temporal-server` process on PostgreSQL (history and SQL visibility), on 127.0.0.1, with a namespace holding the
 * memberops search attributes: the production topology on one machine.
 */
export class TemporalServer {
  readonly address: string;
  readonly namespace: string;
  readonly logFile: string;
  readonly databases: Record<TemporalStore, string>;

  private constructor(
    private readonly s: Settings,
    private current: ServerProcess,
    private readonly dropOnStop: boolean,
  ) {
    this.address = `127.0.0.1:${s.ports.frontend}`;
    this.namespace = s.namespace;
    this.logFile = s.logFile;
    this.databases = s.databases;
  }

  /** Creates and migrates the databases, writes the config, starts the server, registers namespace and attributes. */
  static async start(opts: TemporalServerOptions): Promise<TemporalServer> {
    const log = opts.log ?? (() => undefined);
    const prefix = opts.databasePrefix ?? `temporal_${randomBytes(5).toString('hex')}`;
    const root = opts.rootDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'memberops-temporal-server-')));
    const s: Settings = {
      server: opts.binaries.server,
      root,
      logFile: path.join(root, 'temporal-server.log'),
      pg: pgEndpoint(opts.pgUrl),
      databases: { default: prefix, visibility: `${prefix}_visibility` },
      ports: await pickPorts(opts.port),
      namespace: opts.namespace ?? 'default',
      log,
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
      stopTimeoutMs: opts.stopTimeoutMs ?? 15_000,
    };
    const started = Date.now();
    await setupTemporalDatabases({ ...opts.binaries, pg: s.pg, databases: s.databases, log });
    await writeServerConfig(root, {
      pg: s.pg,
      databases: s.databases,
      ports: s.ports,
      numHistoryShards: opts.numHistoryShards ?? 4,
      maxConns: opts.maxConns ?? 20,
      logLevel: opts.logLevel ?? 'warn',
    });
    let run: ServerProcess;
    try {
      run = await launch(s);
    } catch (err) {
      if (opts.dropOnStop) await dropTemporalDatabases(s.pg, s.databases);
      throw err;
    }
    const server = new TemporalServer(s, run, opts.dropOnStop ?? false);
    try {
      await server.prepareNamespace();
    } catch (err) {
      await server.stop();
      throw err;
    }
    log(`Temporal server ${server.address} on PostgreSQL ready in ${Date.now() - started} ms (log ${s.logFile})`);
    return server;
  }

  get pid(): number {
    return this.current.child.pid as number;
  }

  get running(): boolean {
    return this.current.exitInfo === undefined;
  }

  /** SIGTERM (SIGKILL after the grace period), then drops the databases if asked to. Safe to call twice. */
  async stop(): Promise<void> {
    await this.terminate();
    if (this.dropOnStop) await dropTemporalDatabases(this.s.pg, this.s.databases);
  }

  /** Stops the process and starts it again on the same ports and databases; resolves once the frontend answers. */
  async restart(): Promise<void> {
    await this.terminate();
    this.current = await launch(this.s);
  }

  private async terminate(): Promise<void> {
    const run = this.current;
    if (run.exitInfo !== undefined) return;
    // An unref'd child does not keep the event loop alive; while we wait for it to exit, it must.
    run.child.ref();
    run.signal('SIGTERM');
    if (await run.waitForExit(this.s.stopTimeoutMs)) return;
    this.s.log(`temporal-server ${run.child.pid} ignored SIGTERM for ${this.s.stopTimeoutMs} ms; sending SIGKILL`);
    run.signal('SIGKILL');
    if (!(await run.waitForExit(10_000))) throw new Error(`temporal-server ${run.child.pid} did not exit after SIGKILL`);
  }

  /** Registers the namespace (idempotent), waits until the frontend serves it, then registers the search attributes. */
  private async prepareNamespace(): Promise<void> {
    const connection = await Connection.connect({ address: this.address });
    try {
      try {
        await connection.workflowService.registerNamespace({
          namespace: this.namespace,
          workflowExecutionRetentionPeriod: msToTs('3 days'),
        });
        this.s.log(`Registered namespace "${this.namespace}"`);
      } catch (err) {
        // ALREADY_EXISTS (6): a restart on the same databases, or another process won the race.
        if (!(isGrpcServiceError(err) && err.code === 6)) throw err;
      }
      await waitUntil(this.s.startTimeoutMs, `namespace "${this.namespace}" to be served`, async () => {
        await connection.workflowService.describeNamespace({ namespace: this.namespace });
      });
      await ensureSearchAttributes(connection, this.namespace, this.s.log, { timeoutMs: this.s.startTimeoutMs });
    } finally {
      await connection.close();
    }
  }
}

async function pickPorts(frontend: number | undefined): Promise<ServerPorts> {
  const ports: Partial<ServerPorts> = {};
  const taken = new Set<number>();
  for (const name of PORT_NAMES) {
    // The cluster_membership table keeps membership ports in a smallint: they must stay below 32768, where the OS
    // never hands out ephemeral ports.
    const pick = name.endsWith('Membership') ? findFreeLowPort : findFreePort;
    let port = name === 'frontend' && frontend ? frontend : await pick();
    // Two calls can return the same port once the first socket is closed.
    while (taken.has(port)) port = await pick();
    taken.add(port);
    ports[name] = port;
  }
  return ports as ServerPorts;
}

/** A port in 20000-32767 that can be bound on 127.0.0.1 now. */
async function findFreeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (await canBind(port)) return port;
  }
  throw new Error('No free port found in 20000-32767 after 50 attempts');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.1', port }, () => probe.close(() => resolve(true)));
  });
}

async function launch(s: Settings): Promise<ServerProcess> {
  const args = ['--root', s.root, '--config', 'config', '--env', CONFIG_ENV, 'start'];
  const run = await spawnServerProcess(s.server, args, s.logFile, 'temporal-server', s.log);
  s.log(`Started temporal-server pid ${run.child.pid} on 127.0.0.1:${s.ports.frontend}, log in ${s.logFile}`);
  try {
    await waitUntil(
      s.startTimeoutMs,
      `temporal-server to answer on 127.0.0.1:${s.ports.frontend}`,
      async () => {
        if (!(await canConnect(s.ports.frontend))) throw new Error('connection refused');
        const connection = await Connection.connect({ address: `127.0.0.1:${s.ports.frontend}`, connectTimeout: 5_000 });
        try {
          // Answers only once the frontend has joined the cluster ring and reached persistence.
          await connection.workflowService.getSystemInfo({});
        } finally {
          await connection.close();
        }
      },
      run,
      s.logFile,
    );
  } catch (err) {
    run.signal('SIGKILL');
    await run.waitForExit(10_000);
    throw err;
  }
  return run;
}

/** Retries `attempt` until it resolves; fails with the last error at the deadline or when `run` exits. */
async function waitUntil(
  timeoutMs: number,
  what: string,
  attempt: () => Promise<void>,
  run?: ServerProcess,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (run?.exitInfo !== undefined) {
      const how = run.exitInfo.signal ?? `code ${run.exitInfo.code}`;
      throw new Error(`temporal-server exited (${how}) while waiting for ${what}. Log:\n${await readTail(logFile ?? '')}`);
    }
    try {
      await attempt();
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? last.message : String(last);
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last error: ${why})`);
    }
    await (run ? Promise.race([delay(200), run.exited]) : delay(200));
  }
}
