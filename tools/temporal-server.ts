/**
 * Builds (once, with Go, about five minutes) and caches the PostgreSQL-backed Temporal server, its SQL tool and schema
 * in ~/.cache/memberops, then prints the server's path. CI runs it before the tests so the production rehearsal
 * never pays for the build inside a test's time budget. Progress goes to stderr.
 */
import { findOrBuildTemporalServer } from './testkit/temporal-server';

async function main(): Promise<void> {
  const started = Date.now();
  const binaries = await findOrBuildTemporalServer({ log: (msg) => process.stderr.write(`${msg}\n`) });
  if (binaries === undefined) {
    process.stderr.write('No cached temporal-server in ~/.cache/memberops/bin and no Go toolchain to build it.\n');
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`temporal-server ready after ${Math.round((Date.now() - started) / 1000)} s\n`);
  process.stdout.write(`${binaries.server}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
