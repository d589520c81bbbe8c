/** The Temporal server a bench run measures: the in-memory dev server, or the PostgreSQL-backed cluster (`--temporal server`). */
import { findOrBuildTemporalCli } from '../testkit/temporal-cli';
import { TemporalDevServer } from '../testkit/temporal-dev-server';
import { findOrBuildTemporalServer, TEMPORAL_SERVER_VERSION, TemporalServer } from '../testkit/temporal-server';

export type TemporalKind = 'dev' | 'server';

export interface BenchTemporal {
  address: string;
  pid: number;
  /** For the report: the CLI binary (its --version is printed) or a description of the cluster. */
  describe: { cliPath?: string; label: string };
  stop(): Promise<void>;
}

export async function startBenchTemporal(
  kind: TemporalKind,
  opts: { cliPathEnv: string | undefined; pgAdminUrl: string; logFile: string; say: (m: string) => void },
): Promise<BenchTemporal> {
  if (kind === 'server') {
    const binaries = await findOrBuildTemporalServer({ log: opts.say });
    if (!binaries)
      throw new Error('no temporal-server and no Go toolchain to build it (see tools/testkit/temporal-server)');
    // A fresh pair of databases per run, dropped at the end, like the bench's own database.
    const server = await TemporalServer.start({ binaries, pgUrl: opts.pgAdminUrl, dropOnStop: true, log: opts.say });
    return {
      address: server.address,
      pid: server.pid,
      describe: { label: `Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL (4 shards, SQL visibility)` },
      stop: () => server.stop(),
    };
  }
  const cliPath = await findOrBuildTemporalCli({ envPath: opts.cliPathEnv, log: opts.say });
  if (!cliPath)
    throw new Error('no temporal CLI binary and no Go toolchain to build one (see tools/testkit/temporal-cli.ts)');
  const server = await TemporalDevServer.start({ cliPath, headless: true, logFile: opts.logFile, log: opts.say });
  return {
    address: server.address,
    pid: server.pid,
    describe: { cliPath, label: 'Temporal dev server in memory' },
    stop: () => server.stop(),
  };
}
