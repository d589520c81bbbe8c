import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes, searchAttributeCliArgs } from '../../lib/search-attributes';
import { canConnect, delay, findFreePort, readTail, ServerProcess, spawnServerProcess } from './server-process';

export { findFreePort } from './server-process';

export interface TemporalDevServerOptions {
  /** Path of the `temporal` CLI binary (see `findOrBuildTemporalCli`). */
  cliPath: string;
  /** gRPC frontend port; 0 or unset picks a free one. */
  port?: number;
  /** Web UI port; 0 or unset picks a free one. Ignored when headless. */
  uiPort?: number;
  /** Run without the Web UI. */
  headless?: boolean;
  /** SQLite file that keeps workflows across restarts; unset keeps everything in memory. */
  dbFilename?: string;
  /** Extra namespace created at launch (the `default` namespace always exists). */
  namespace?: string;
  /** Where the server's stdout and stderr go (appended). Default: a new file in the OS temp directory. */
  logFile?: string;
  /** Progress messages from this wrapper (not the server's own log). */
  log?: (msg: string) => void;
  /** Deadline for the frontend to answer after launch. Default 30 s. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before sending SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  /** Server log level. Default `warn`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

interface Settings {
  cliPath: string;
  port: number;
  uiPort: number | undefined;
  dbFilename: string | undefined;
  namespaces: string[];
  logFile: string;
  log: (msg: string) => void;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  logLevel: string;
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

/**
 * A `temporal server start-dev` child process on 127.0.0.1 with the memberops search attributes registered.
 *
 * The child never outlives this process: it is SIGKILLed on process 'exit', and on Linux it is also launched under
 * `setpriv --pdeathsig KILL` so that it dies even when this process is SIGKILLed (a CI timeout, a crashed jest).
 */
export class TemporalDevServer {
  /** `127.0.0.1:PORT` of the gRPC frontend. */
  readonly address: string;
  /** URL of the Web UI; undefined when headless. */
  readonly uiUrl: string | undefined;
  /** File that receives the server's output. */
  readonly logFile: string;
  readonly dbFilename: string | undefined;

  private constructor(
    private readonly settings: Settings,
    private current: ServerProcess,
  ) {
    this.address = `127.0.0.1:${settings.port}`;
    this.uiUrl = settings.uiPort === undefined ? undefined : `http://127.0.0.1:${settings.uiPort}`;
    this.logFile = settings.logFile;
    this.dbFilename = settings.dbFilename;
  }

  /** Launches the server and resolves once its frontend answers and the search attributes are registered. */
  static async start(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
    const autoPort = !opts.port;
    const autoUiPort = !opts.headless && !opts.uiPort;
    const settings: Settings = {
      cliPath: opts.cliPath,
      port: opts.port || (await findFreePort()),
      uiPort: opts.headless ? undefined : opts.uiPort || (await findFreePort()),
      dbFilename: opts.dbFilename === undefined ? undefined : path.resolve(opts.dbFilename),
      namespaces: [...new Set(['default', ...(opts.namespace ? [opts.namespace] : [])])],
      logFile:
        opts.logFile ??
        path.join(os.tmpdir(), `memberops-temporal-${process.pid}-${Math.random().toString(36).slice(2, 10)}.log`),
      log: opts.log ?? (() => undefined),
      startTimeoutMs: opts.startTimeoutMs ?? 30_000,
      stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
      logLevel: opts.logLevel ?? 'warn',
    };
    if (settings.dbFilename !== undefined) await fs.mkdir(path.dirname(settings.dbFilename), { recursive: true });
    await fs.mkdir(path.dirname(settings.logFile), { recursive: true });

    // A port picked by binding port 0 can be taken by someone else before the server binds it; pick again then.
    for (let attempt = 1; ; attempt++) {
      try {
        const run = await launch(settings);
        return new TemporalDevServer(settings, run);
      } catch (err) {
        if (!(err instanceof StartError && err.portInUse && (autoPort || autoUiPort) && attempt < 3)) throw err;
        settings.log(
          `Port ${settings.port} or ${settings.uiPort ?? '-'} was taken before the server bound it; retrying`,
        );
        if (autoPort) settings.port = await findFreePort();
        if (autoUiPort) settings.uiPort = await findFreePort();
      }
    }
  }

  /** Process id of the running server (changes on restart). */
  get pid(): number {
    // spawn() only returns without a pid when it fails, and launch() rejects in that case.
    return this.current.child.pid as number;
  }

  /** False once the server process has exited (stopped, killed or crashed). */
  get running(): boolean {
    return this.current.exitInfo === undefined;
  }

  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; resolves once the process has exited. Safe to call twice. */
  async stop(): Promise<void> {
    await this.terminate('SIGTERM', this.settings.stopTimeoutMs);
  }

  /** SIGKILL, to simulate a crash; resolves once the process has exited. */
  async kill(): Promise<void> {
    await this.terminate('SIGKILL', 0);
  }

  /**
   * Stops the server (if still running) and starts it again on the same port and db file. Without a db file the
   * restarted server is empty.
   */
  async restart(): Promise<void> {
    await this.stop();
    // The port is fixed now (clients hold this address), so a conflict is waited out instead of moving ports.
    const deadline = Date.now() + this.settings.startTimeoutMs;
    for (;;) {
      try {
        this.current = await launch(this.settings);
        return;
      } catch (err) {
        if (!(err instanceof StartError && err.portInUse && Date.now() < deadline)) throw err;
        this.settings.log(`Port ${this.settings.port} is still in use; retrying the restart`);
        await delay(250);
      }
    }
  }

  private async terminate(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const run = this.current;
    if (run.exitInfo !== undefined) return;
    // An unref'd child does not keep the event loop alive; while we wait for it to exit, it must.
    run.child.ref();
    if (signal !== 'SIGKILL') {
      run.signal(signal);
      if (await run.waitForExit(graceMs)) return;
      this.settings.log(`Temporal dev server ${run.child.pid} ignored ${signal} for ${graceMs} ms; sending SIGKILL`);
    }
    run.signal('SIGKILL');
    if (!(await run.waitForExit(10_000))) {
      throw new Error(`Temporal dev server ${run.child.pid} did not exit after SIGKILL`);
    }
  }
}

async function launch(settings: Settings): Promise<ServerProcess> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(settings.port),
    '--log-level',
    settings.logLevel,
    ...searchAttributeCliArgs(),
    ...(settings.uiPort === undefined ? ['--headless'] : ['--ui-port', String(settings.uiPort)]),
    ...(settings.dbFilename === undefined ? [] : ['--db-filename', settings.dbFilename]),
    ...settings.namespaces.filter((ns) => ns !== 'default').flatMap((ns) => ['--namespace', ns]),
  ];
  const run = await spawnServerProcess(settings.cliPath, args, settings.logFile, 'Temporal dev server', settings.log);
  const child = run.child;
  const address = `127.0.0.1:${settings.port}`;
  settings.log(`Started temporal dev server pid ${child.pid} on ${address}, log in ${settings.logFile}`);

  const started = Date.now();
  try {
    const connection = await waitUntilReady(run, address, settings);
    try {
      for (const namespace of settings.namespaces) {
        await ensureSearchAttributes(connection, namespace, settings.log);
      }
    } finally {
      await connection.close();
    }
  } catch (err) {
    run.signal('SIGKILL');
    await run.waitForExit(10_000);
    throw err;
  }
  settings.log(`Temporal dev server on ${address} ready in ${Date.now() - started} ms`);
  return run;
}

/** Polls until the frontend answers describeNamespace for every namespace; returns the open connection. */
async function waitUntilReady(run: ServerProcess, address: string, settings: Settings): Promise<Connection> {
  const deadline = Date.now() + settings.startTimeoutMs;
  let lastError: unknown;
  for (;;) {
    if (run.exitInfo !== undefined) {
      const tail = await readTail(settings.logFile);
      const how = run.exitInfo.signal ?? `code ${run.exitInfo.code}`;
      throw new StartError(
        `temporal server start-dev exited (${how}) before it answered on ${address}. ` +
          `Last lines of ${settings.logFile}:\n${tail}`,
        /address already in use/i.test(tail),
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new StartError(
        `temporal server start-dev did not answer on ${address} within ${settings.startTimeoutMs} ms ` +
          `(last error: ${lastError instanceof Error ? lastError.message : String(lastError)}). See ${settings.logFile}`,
        false,
      );
    }
    // A plain TCP probe first: gRPC channels back off for seconds after a refused connection.
    if (await canConnect(settings.port)) {
      let connection: Connection | undefined;
      try {
        connection = await Connection.connect({ address, connectTimeout: Math.min(remaining, 5_000) });
        for (const namespace of settings.namespaces) {
          await connection.workflowService.describeNamespace({ namespace });
        }
        return connection;
      } catch (err) {
        lastError = err;
        await connection?.close();
      }
    } else {
      lastError = new Error(`connection to ${address} refused`);
    }
    await Promise.race([delay(100), run.exited]);
  }
}

