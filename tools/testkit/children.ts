/**
 * The memberops worker and API (and the bench's baseline) as real child processes (`node --import tsx <script>`), so
 * that a SIGKILL is a real crash; used by the soak and the bench. Each child gets exactly the environment given plus
 * PATH and HOME (nothing else of the caller's shell, so a developer's STRIPE_SECRET_KEY or Intercom token never
 * reaches it), appends its output to a log file, and dies with its parent even if that is SIGKILLed (pdeathsig).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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

export interface ScriptProcessOptions {
  /** The variables the child sees, besides PATH and HOME (which these may override). */
  env: Record<string, string>;
  /** Output of every start is appended here. */
  logFile: string;
  /** Working directory: the run directory keeps a developer's `.env` out of reach. */
  cwd: string;
  /** Node flags before `--import tsx` (e.g. `--cpu-prof`). */
  nodeFlags?: string[];
}

/** One child process; `start()` again after it exited launches a new one with the same settings. */
export class ScriptProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitInfo> | undefined;
  /** Exits nobody asked for (not a kill of ours). */
  readonly unexpectedExits: ExitInfo[] = [];
  private expectingExit = false;
  onUnexpectedExit: ((info: ExitInfo) => void) | undefined;
  peakRssBytes = 0;
  starts = 0;

  private lastExit: ExitInfo | undefined;
  readonly logFile: string;

  /** `script` is relative to the repository root. */
  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly opts: ScriptProcessOptions,
  ) {
    this.logFile = opts.logFile;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** How the last start ended, while no process is running (undefined while one runs or before the first start). */
  get exited(): ExitInfo | undefined {
    return this.pid === undefined ? this.lastExit : undefined;
  }

  start(): number {
    if (this.pid !== undefined) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const args = [...(this.opts.nodeFlags ?? []), '--import', TSX_LOADER, path.resolve(REPO_ROOT, this.script)];
    const [cmd, argv] = canPdeathsig
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...args]]
      : [process.execPath, args];
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      // The run directory has no tsconfig.json: without it tsx would compile the console's JSX for React.
      TSX_TSCONFIG_PATH: path.join(REPO_ROOT, 'tsconfig.json'),
      ...this.opts.env,
    };
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, argv, { cwd: this.opts.cwd, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${this.name}`);
    this.child = child;
    this.starts += 1;
    this.expectingExit = false;
    this.lastExit = undefined;
    live.add(child);
    child.on('error', () => undefined);
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        const info = { code, signal, at: Date.now() };
        this.lastExit = info;
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
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * Calls `check` every `intervalMs` until it returns true and resolves to the time that took; throws naming `what` on
 * timeout, or at once (with its log) when one of `children` has exited, since waiting on a dead process is pointless.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; children?: ScriptProcess[] },
): Promise<number> {
  const started = Date.now();
  let lastError = '';
  for (;;) {
    for (const c of opts.children ?? []) {
      const exit = c.exited;
      if (exit) {
        throw new Error(
          `${c.name} exited (${exit.signal ?? `code ${exit.code}`}) while waiting for ${what}:\n${c.tail()}`,
        );
      }
    }
    try {
      if (await check()) return Date.now() - started;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() - started > opts.timeoutMs) {
      throw new Error(
        `timed out after ${opts.timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`,
      );
    }
    await sleep(opts.intervalMs ?? 250);
  }
}
