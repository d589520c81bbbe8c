import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes, searchAttributeCliArgs } from '../../lib/search-attributes';

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

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One launched `temporal server start-dev` process. */
class ServerProcess {
  exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        liveChildren.delete(child);
        resolve(this.exitInfo);
      });
    });
  }

  /** Resolves true once the process has exited, false if it is still running after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exitInfo !== undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.exited.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo !== undefined) return;
    // Returns false when the process is already gone, which is what we want anyway.
    this.child.kill(signal);
  }
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
  const [command, commandArgs] = (await pdeathsigWrapper())
    ? [SETPRIV, [...SETPRIV_ARGS, settings.cliPath, ...args]]
    : [settings.cliPath, args];

  const logFd = await fs.open(settings.logFile, 'a');
  let child: ChildProcess;
  let spawned: Promise<Error | undefined>;
  try {
    await logFd.write(`\n--- ${new Date().toISOString()} ${settings.cliPath} ${args.join(' ')}\n`);
    child = spawn(command, commandArgs, { stdio: ['ignore', logFd.fd, logFd.fd] });
    // Listen before any await: 'spawn' and 'error' fire on the next tick.
    spawned = new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', resolve);
    });
  } finally {
    // The child has its own copy of the descriptor.
    await logFd.close();
  }
  const spawnError = await spawned;
  if (spawnError !== undefined) throw new Error(`Could not run ${settings.cliPath}: ${spawnError.message}`);
  // After a successful spawn, 'error' only reports a failed kill(); without a listener it would crash the process.
  child.on('error', (err) => settings.log(`Temporal dev server ${child.pid}: ${err.message}`));
  trackChild(child);
  // Scripts and jest must be able to exit while the server runs; the 'exit' hook and pdeathsig clean it up.
  child.unref();
  const run = new ServerProcess(child);
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

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Asks the OS for a free port by binding port 0 on 127.0.0.1. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('Could not read the port of a listening socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

async function readTail(file: string, bytes = 4096): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8').split('\n').slice(-25).join('\n');
  } finally {
    await handle.close();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Children still running when this process exits. 'exit' handlers must be synchronous, so they can only SIGKILL.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  });
}

const SETPRIV = '/usr/bin/setpriv';
const SETPRIV_ARGS = ['--pdeathsig', 'KILL', '--'];
let pdeathsigSupport: Promise<boolean> | undefined;

/** Whether util-linux `setpriv --pdeathsig` (Linux only, util-linux >= 2.33) can wrap the server. */
function pdeathsigWrapper(): Promise<boolean> {
  pdeathsigSupport ??= (async () => {
    if (process.platform !== 'linux') return false;
    try {
      await fs.access(SETPRIV, fsConstants.X_OK);
    } catch (err) {
      if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'EACCES')) return false;
      throw err;
    }
    return new Promise<boolean>((resolve) => {
      execFile(SETPRIV, [...SETPRIV_ARGS, 'true'], (err) => resolve(err === null));
    });
  })();
  return pdeathsigSupport;
}
