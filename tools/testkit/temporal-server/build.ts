import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, GO_NAME, goInstallInto, isExecutable, withLock } from '../temporal-cli';

/** The Temporal server release memberops rehearses production on; docker-compose.yml runs the same images. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_MODULES = {
  server: `${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
  sqlTool: `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
} as const;
/** The PostgreSQL schema directory inside the server module (and inside the admin-tools image under /etc/temporal). */
export const POSTGRES_SCHEMA_SUBDIR = 'schema/postgresql/v12';

export interface TemporalServerBinaries {
  /** `temporal-server` (built from cmd/server). */
  server: string;
  /** `temporal-sql-tool` (built from cmd/tools/sql). */
  sqlTool: string;
  /** `.../schema/postgresql/v12`, holding `temporal/` and `visibility/`. */
  schemaDir: string;
}

export interface FindTemporalServerOptions {
  /** Cache root, binaries in `<cacheDir>/bin`. Default `~/.cache/memberops`. */
  cacheDir?: string;
  /** OS environment handed to `go` (HOME, GOPATH, GOCACHE…) and searched for it. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  log?: (msg: string) => void;
  /** How long to wait for another process building the same binaries. Default 15 minutes (a build takes ~5). */
  lockTimeoutMs?: number;
}

/**
 * Finds the cached `temporal-server`, `temporal-sql-tool` and PostgreSQL schema of TEMPORAL_SERVER_VERSION, building
 * them once with Go when missing (about five minutes on two cores). Resolves to undefined when they are missing and
 * there is no Go toolchain.
 */
export async function findOrBuildTemporalServer(
  opts: FindTemporalServerOptions = {},
): Promise<TemporalServerBinaries | undefined> {
  const log = opts.log ?? (() => undefined);
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? path.join(os.homedir(), '.cache', 'memberops');
  const wanted: TemporalServerBinaries = {
    server: path.join(cacheDir, 'bin', 'temporal-server'),
    sqlTool: path.join(cacheDir, 'bin', 'temporal-sql-tool'),
    // Versioned: a schema must match the server that reads it.
    schemaDir: path.join(cacheDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`, POSTGRES_SCHEMA_SUBDIR),
  };
  if (await isCached(wanted)) return wanted;

  const go = await findOnPath(GO_NAME, env.PATH);
  if (go === undefined) {
    log(`No temporal-server in ${path.dirname(wanted.server)} and no Go toolchain to build it`);
    return undefined;
  }
  await withLock(path.join(cacheDir, 'temporal-server.lock'), opts.lockTimeoutMs ?? 15 * 60_000, log, async () => {
    // Another process may have finished while we waited for the lock.
    if (await isCached(wanted)) return;
    if (!(await isExecutable(wanted.server)) || !(await isExecutable(wanted.sqlTool))) {
      await goInstallInto({
        go,
        cacheDir,
        modules: [TEMPORAL_SERVER_MODULES.server, TEMPORAL_SERVER_MODULES.sqlTool],
        binaries: { server: wanted.server, sql: wanted.sqlTool },
        env,
        log,
      });
    }
    await copySchema(go, env, wanted.schemaDir, log);
  });
  return wanted;
}

async function isCached(b: TemporalServerBinaries): Promise<boolean> {
  if (!(await isExecutable(b.server)) || !(await isExecutable(b.sqlTool))) return false;
  try {
    await fs.access(path.join(b.schemaDir, 'visibility', 'versioned'));
    return true;
  } catch {
    return false;
  }
}

/** Copies the schema out of the Go module cache (which `go clean -modcache` may empty) next to the binaries. */
async function copySchema(go: string, env: NodeJS.ProcessEnv, target: string, log: (msg: string) => void): Promise<void> {
  const moduleAtVersion = `${MODULE}@v${TEMPORAL_SERVER_VERSION}`;
  const json = await new Promise<string>((resolve, reject) => {
    execFile(go, ['mod', 'download', '-json', moduleAtVersion], { env, cwd: os.tmpdir() }, (err, stdout) =>
      err ? reject(new Error(`go mod download ${moduleAtVersion} failed: ${err.message}`)) : resolve(stdout),
    );
  });
  const dir = (JSON.parse(json) as { Dir?: string }).Dir;
  if (dir === undefined) throw new Error(`go mod download ${moduleAtVersion} did not name a directory`);
  const staging = `${target}.tmp-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.cp(path.join(dir, POSTGRES_SCHEMA_SUBDIR), staging, { recursive: true });
  // The module cache is read-only; the copy must stay removable.
  await fs.chmod(staging, 0o755);
  await makeWritable(staging);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.rename(staging, target);
  log(`Copied the PostgreSQL schema of Temporal ${TEMPORAL_SERVER_VERSION} to ${target}`);
}

async function makeWritable(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    await fs.chmod(p, entry.isDirectory() ? 0o755 : 0o644);
    if (entry.isDirectory()) await makeWritable(p);
  }
}
