import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The Temporal CLI release memberops builds and tests against. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export interface FindTemporalCliOptions {
  /** Explicit binary (TEMPORAL_CLI_PATH, read by the entry point); must exist when given. */
  envPath?: string;
  /** Where a built binary is cached, as `<cacheDir>/bin/temporal`. Default `~/.cache/memberops`. */
  cacheDir?: string;
  /**
   * The process environment used to search PATH and handed to `go install` (which needs HOME, GOPATH, GOCACHE…).
   * This is the OS environment a child process would inherit anyway, not configuration. Default: `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Progress messages, including the `go install` output. */
  log?: (msg: string) => void;
  /** How long to wait for another process that holds the build lock. Default 10 minutes. */
  lockTimeoutMs?: number;
}

const BINARY_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
export const GO_NAME = process.platform === 'win32' ? 'go.exe' : 'go';
const STDERR_TAIL_LINES = 30;

/**
 * Finds a `temporal` CLI binary: `envPath`, then `temporal` on PATH, then `<cacheDir>/bin/temporal`; when none exists
 * and Go is installed, builds it once into the cache (`go install TEMPORAL_CLI_MODULE`).
 *
 * Resolves to undefined when there is no binary and no Go toolchain. Callers then fall back to
 * `@temporalio/testing`'s `TestWorkflowEnvironment.createLocal()`, which downloads a CLI release on first use (that
 * needs access to temporal.download, which CI machines may not have).
 */
export async function findOrBuildTemporalCli(opts: FindTemporalCliOptions = {}): Promise<string | undefined> {
  const log = opts.log ?? (() => undefined);
  const env = opts.env ?? process.env;

  if (opts.envPath !== undefined && opts.envPath !== '') {
    const explicit = path.resolve(opts.envPath);
    // An explicit path that is wrong is a configuration error; silently using another binary would hide it.
    if (!(await isExecutable(explicit))) {
      throw new Error(`TEMPORAL_CLI_PATH=${opts.envPath} is not an executable file`);
    }
    return explicit;
  }

  const onPath = await findOnPath(BINARY_NAME, env.PATH);
  if (onPath !== undefined) return onPath;

  const cacheDir = opts.cacheDir ?? path.join(os.homedir(), '.cache', 'memberops');
  const cached = path.join(cacheDir, 'bin', BINARY_NAME);
  if (await isExecutable(cached)) return cached;

  const go = await findOnPath(GO_NAME, env.PATH);
  if (go === undefined) {
    log(`No temporal CLI on PATH or in ${cached}, and no Go toolchain to build it`);
    return undefined;
  }

  await withLock(path.join(cacheDir, 'temporal-cli.lock'), opts.lockTimeoutMs ?? 10 * 60_000, log, async () => {
    // Another process may have finished the build while we waited for the lock.
    if (await isExecutable(cached)) return;
    await goInstall(go, cacheDir, cached, env, log);
  });
  return cached;
}

async function goInstall(
  go: string,
  cacheDir: string,
  target: string,
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<void> {
  await goInstallInto({ go, cacheDir, modules: [TEMPORAL_CLI_MODULE], binaries: { [BINARY_NAME]: target }, env, log });
}

export interface GoInstallOptions {
  /** The `go` binary. */
  go: string;
  /** Directory that receives the private GOBIN (on the same file system as the targets, so rename works). */
  cacheDir: string;
  /** `module/path@version` arguments of one `go install`. */
  modules: string[];
  /** Name `go install` gives a binary → where it is moved to. */
  binaries: Record<string, string>;
  env: NodeJS.ProcessEnv;
  log: (msg: string) => void;
}

/** One `go install` of `modules` into a private GOBIN, then each binary renamed to its target. */
export async function goInstallInto(opts: GoInstallOptions): Promise<void> {
  const { go, cacheDir, modules, env, log } = opts;
  // Build into a private directory and rename into place, so nobody ever sees a half-written binary, even if this
  // process dies mid-build and a later one ignores the stale lock.
  await fs.mkdir(cacheDir, { recursive: true });
  const gobin = await fs.mkdtemp(path.join(cacheDir, 'gobin-'));
  try {
    log(`Building: GOBIN=${gobin} ${go} install ${modules.join(' ')}`);
    const started = Date.now();
    const result = await runStreaming(go, ['install', ...modules], { ...env, GOBIN: gobin }, log);
    if (result.exitCode !== 0) {
      throw new Error(
        `go install ${modules.join(' ')} failed (${result.signal ?? `exit code ${result.exitCode}`}). ` +
          `Last lines of its output:\n${result.lines.join('\n')}`,
      );
    }
    for (const [built, target] of Object.entries(opts.binaries)) {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(path.join(gobin, built), target);
      log(`Built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } finally {
    await fs.rm(gobin, { recursive: true, force: true });
  }
}

interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
}

function runStreaming(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onLine = (line: string): void => {
      if (line === '') return;
      log(`[go] ${line}`);
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    };
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (pending + chunk).split(/\r?\n/);
        pending = parts.pop() ?? '';
        parts.forEach(onLine);
      });
      stream.on('end', () => onLine(pending));
    }
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, lines: tail }));
  });
}

/**
 * Runs `fn` while holding an exclusive lock file, so concurrent processes (parallel CI jobs, jest + a script) build the
 * CLI once. A lock whose owner process is gone is stale and taken over.
 */
export async function withLock(
  lockPath: string,
  timeoutMs: number,
  log: (msg: string) => void,
  fn: () => Promise<void>,
): Promise<void> {
  await fs.mkdir(path.dirname(lockPath), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if (!isErrnoException(err) || err.code !== 'EEXIST') throw err;
    }
    const owner = await readLockOwner(lockPath);
    if (owner !== undefined && !isProcessAlive(owner)) {
      log(`Removing stale lock ${lockPath} (process ${owner} is gone)`);
      await fs.rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${lockPath} (held by process ${owner ?? 'unknown'})`,
      );
    }
    if (!announced) {
      log(`Waiting for process ${owner ?? 'unknown'} to finish its build (${lockPath})`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  try {
    await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

async function readLockOwner(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await fs.readFile(lockPath, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    // The owner released the lock between our open and this read.
    if (isErrnoException(err) && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return isErrnoException(err) && err.code === 'EPERM';
  }
}

export async function findOnPath(name: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch (err) {
    if (isErrnoException(err) && (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'ENOTDIR')) {
      return false;
    }
    throw err;
  }
}

function isErrnoException(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}
