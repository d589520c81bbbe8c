/**
 * The Next.js example (examples/next-app) for browser tests: built once per source change (`next build` is skipped when
 * the hash of its sources, the client and the contract matches the last build's), then `next start` on an ephemeral
 * port, against a memberops of the test's own.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../tools/testkit/children';

export const NEXT_APP_DIR = path.join(REPO_ROOT, 'examples', 'next-app');
const NEXT_BIN = path.join(NEXT_APP_DIR, 'node_modules', 'next', 'dist', 'bin', 'next');
const STAMP = path.join(NEXT_APP_DIR, '.next', 'memberops-source.sha256');
/** Inlined into the browser bundle at build time (NEXT_PUBLIC_), so part of the build's identity. */
export const EXAMPLE_INTERCOM_APP_ID = 'app_next_example';

const SKIP = new Set(['node_modules', '.next', 'next-env.d.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !SKIP.has(name) && !name.endsWith('.tsbuildinfo'))
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? sourceFiles(full) : [full];
    });
}

/** What the build depends on: the example, the client it compiles from source, the contract and its vocabulary. */
function sourceHash(): string {
  const hash = createHash('sha256').update(`app id ${EXAMPLE_INTERCOM_APP_ID}\n`);
  const files = [
    ...sourceFiles(NEXT_APP_DIR),
    ...sourceFiles(path.join(REPO_ROOT, 'client')),
    path.join(REPO_ROOT, 'lib', 'contract.ts'),
    path.join(REPO_ROOT, 'workflows', 'vocabulary.ts'),
  ];
  for (const f of files) hash.update(`${path.relative(REPO_ROOT, f)}\n`).update(readFileSync(f));
  return hash.digest('hex');
}

/** Builds the example unless the last build was of these very sources; says whether it built. */
export async function buildNextApp(): Promise<{ built: boolean; ms: number }> {
  // A fresh clone's `npm install` does not reach the example's own dependencies: install them once, as .ci/run does.
  if (!existsSync(NEXT_BIN)) {
    await promisify(execFile)('npm', ['ci', '--no-audit', '--no-fund'], { cwd: NEXT_APP_DIR, timeout: 5 * 60_000, maxBuffer: 16 * 1024 * 1024 });
  }
  const hash = sourceHash();
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash && existsSync(path.join(NEXT_APP_DIR, '.next', 'BUILD_ID'))) {
    return { built: false, ms: 0 };
  }
  const started = Date.now();
  try {
    await promisify(execFile)(process.execPath, [NEXT_BIN, 'build'], {
      cwd: NEXT_APP_DIR,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NEXT_TELEMETRY_DISABLED: '1', NEXT_PUBLIC_INTERCOM_APP_ID: EXAMPLE_INTERCOM_APP_ID },
      timeout: 5 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const out = err as { stdout?: string; stderr?: string };
    throw new Error(`next build failed:\n${(out.stdout ?? '').slice(-4000)}\n${(out.stderr ?? '').slice(-4000)}`, { cause: err });
  }
  writeFileSync(STAMP, hash);
  return { built: true, ms: Date.now() - started };
}

export interface NextAppServer {
  url: string;
  /** Everything the server printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/** `next start` on port 0; resolves once it says where it listens. `env` is the app's server-side environment. */
export async function startNextApp(env: Record<string, string>, timeoutMs = 60_000): Promise<NextAppServer> {
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, 'start', '-p', '0', '-H', '127.0.0.1'], {
    cwd: NEXT_APP_DIR,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`next start did not listen within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /Local:\s+(http:\/\/\S+:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1].replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`next start exited (${code}):\n${out}`));
    });
  });
  return {
    url,
    output: () => out,
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
