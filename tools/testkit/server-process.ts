/** A Temporal server child process, shared by the dev-server wrapper and the PostgreSQL-backed server. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One launched Temporal server process (`temporal server start-dev` or `temporal-server start`). */
export class ServerProcess {
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

export function canConnect(port: number): Promise<boolean> {
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

export async function readTail(file: string, bytes = 4096): Promise<string> {
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

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Children still running when this process exits. 'exit' handlers must be synchronous, so they can only SIGKILL.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  });
}

export const SETPRIV = '/usr/bin/setpriv';
export const SETPRIV_ARGS = ['--pdeathsig', 'KILL', '--'];
let pdeathsigSupport: Promise<boolean> | undefined;

/** Whether util-linux `setpriv --pdeathsig` (Linux only, util-linux >= 2.33) can wrap the server. */
export function pdeathsigWrapper(): Promise<boolean> {
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

/**
 * Spawns `binary args` (in `spawnOptions.cwd`, with exactly `spawnOptions.env` when given), its output appended to
 * `logFile`, under `setpriv --pdeathsig KILL` where available so it never outlives this process, unref'd so scripts
 * and jest can exit while it runs (the 'exit' hook kills it).
 */
export async function spawnServerProcess(
  binary: string,
  args: string[],
  logFile: string,
  label: string,
  log: (msg: string) => void,
  spawnOptions: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ServerProcess> {
  const [command, commandArgs] = (await pdeathsigWrapper()) ? [SETPRIV, [...SETPRIV_ARGS, binary, ...args]] : [binary, args];
  const logFd = await fs.open(logFile, 'a');
  let child: ChildProcess;
  let spawned: Promise<Error | undefined>;
  try {
    await logFd.write(`\n--- ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
    child = spawn(command, commandArgs, { ...spawnOptions, stdio: ['ignore', logFd.fd, logFd.fd] });
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
  if (spawnError !== undefined) throw new Error(`Could not run ${binary}: ${spawnError.message}`);
  // After a successful spawn, 'error' only reports a failed kill(); without a listener it would crash the process.
  child.on('error', (err) => log(`${label} ${child.pid}: ${err.message}`));
  trackChild(child);
  child.unref();
  return new ServerProcess(child);
}
