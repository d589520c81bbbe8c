/**
 * The memberops worker and API as real child processes (`node --import tsx worker/main.ts`), so that a SIGKILL is a
 * real crash. Each child gets exactly the environment given (nothing of the caller's shell, no `.env`: it runs in the
 * run directory), appends its output to a log file, and dies with the soak even if the soak is SIGKILLed (pdeathsig).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TSX_LOADER = require.resolve('tsx', { paths: [REPO_ROOT] });
const SETPRIV = '/usr/bin/setpriv';

const canPdeathsig = ((): boolean => {
  if (process.platform !== 'linux') return false;
  try {
    accessSync(SETPRIV, fsConstants.X_OK);
    execFileSync(SETPRIV, ['--pdeathsig', 'KILL', '--', 'true']);
    return true;
  } catch {
    return false;
  }
})();

const live = new Set<ChildProcess>();
process.on('exit', () => {
  // 'exit' handlers are synchronous: a child still running here can only be killed.
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** One memberops process; `start()` again after it exited launches a new one with the same settings. */
export class MemberopsProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitInfo> | undefined;
  /** Exits nobody asked for (not a kill of ours). */
  readonly unexpectedExits: ExitInfo[] = [];
  private expectingExit = false;
  onUnexpectedExit: ((info: ExitInfo) => void) | undefined;
  peakRssBytes = 0;
  starts = 0;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    readonly logFile: string,
    private readonly cwd: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  start(): number {
    if (this.pid !== undefined) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const args = ['--import', TSX_LOADER, path.join(REPO_ROOT, this.script)];
    const [cmd, argv] = canPdeathsig
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...args]]
      : [process.execPath, args];
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, argv, { cwd: this.cwd, env: this.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${this.name}`);
    this.child = child;
    this.starts += 1;
    this.expectingExit = false;
    live.add(child);
    child.on('error', () => undefined);
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        const info = { code, signal, at: Date.now() };
        if (!this.expectingExit) {
          this.unexpectedExits.push(info);
          this.onUnexpectedExit?.(info);
        }
        resolve(info);
      });
    });
    return child.pid;
  }

  /** Sends `signal` and resolves once the process is gone (SIGKILL after `graceMs` if it lingers). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ExitInfo | undefined> {
    const child = this.child;
    const exited = this.exitPromise;
    if (!child || !exited || child.exitCode !== null || child.signalCode !== null) return undefined;
    this.expectingExit = true;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return first;
    child.kill('SIGKILL');
    return exited;
  }

  /** Resident memory of the process now (Linux /proc), also kept as the peak. */
  sampleRss(): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
      if (!Number.isFinite(kb)) return undefined;
      this.peakRssBytes = Math.max(this.peakRssBytes, kb * 1024);
      return kb * 1024;
    } catch {
      // The process exited between the check and the read.
      return undefined;
    }
  }

  /** The last lines of the log, for failure messages. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
