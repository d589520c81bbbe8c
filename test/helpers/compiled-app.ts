/**
 * memberops as the image runs it: `npm run build` into an app directory laid out like the Dockerfile's (`dist/`,
 * `db/migrations`, `node_modules`), and `node dist/...` processes started with plain node (no tsx loader that could
 * hide a missing compiled module) and exactly the environment given.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnServerProcess, type ServerProcess } from '../../tools/testkit/server-process';

const ROOT = path.join(__dirname, '..', '..');

export interface CompiledApp {
  dir: string;
  /** How long `npm run build` took. */
  buildMs: number;
}

/** Runs the product build into `<tmp>/app/dist` and completes the image layout around it. */
export async function buildCompiledApp(): Promise<CompiledApp> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'memberops-app-'));
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    execFile('npm', ['run', 'build', '--', '--outDir', path.join(dir, 'dist')], { cwd: ROOT }, (err, stdout, stderr) =>
      err ? reject(new Error(`npm run build failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(),
    );
  });
  const buildMs = Date.now() - started;
  await fs.cp(path.join(ROOT, 'db', 'migrations'), path.join(dir, 'db', 'migrations'), { recursive: true });
  await fs.symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { dir, buildMs };
}

/** One `node dist/<part>/main.js` process; `start()` again after it exited launches a new one. */
export class CompiledProcess {
  private run: ServerProcess | undefined;

  constructor(
    readonly name: string,
    private readonly app: CompiledApp,
    private readonly entry: 'api' | 'worker',
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get logFile(): string {
    return path.join(this.app.dir, `${this.name}.log`);
  }

  /** Process id while running (Temporal workers identify themselves as `<pid>@<host>`). */
  get pid(): number | undefined {
    return this.running ? this.run?.child.pid : undefined;
  }

  get running(): boolean {
    return this.run !== undefined && this.run.exitInfo === undefined;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const script = path.join(this.app.dir, 'dist', this.entry, 'main.js');
    this.run = await spawnServerProcess(process.execPath, [script], this.logFile, this.name, () => undefined, {
      cwd: this.app.dir,
      env: this.env,
    });
  }

  /** Sends `signal` and resolves once the process is gone (SIGKILL after 10 s if it lingers). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const run = this.run;
    if (run === undefined || run.exitInfo !== undefined) return;
    run.child.ref();
    run.signal(signal);
    if (await run.waitForExit(10_000)) return;
    run.signal('SIGKILL');
    await run.waitForExit(10_000);
  }

  /** The last lines of the log, for failure messages. */
  async tail(lines = 30): Promise<string> {
    try {
      return (await fs.readFile(this.logFile, 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
