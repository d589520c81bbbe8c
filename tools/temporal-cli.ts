/**
 * Prints the path of a `temporal` CLI binary, building and caching it with Go when needed (`npm run temporal:cli`).
 * Progress goes to stderr so that `TEMPORAL_CLI_PATH=$(npx tsx tools/temporal-cli.ts)` captures only the path.
 */
import { z } from 'zod';
import { findOrBuildTemporalCli } from './testkit/temporal-cli';

const envSchema = z.object({
  /** Explicit CLI binary; skips the PATH / cache lookup and the build. */
  TEMPORAL_CLI_PATH: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
});

async function main(): Promise<void> {
  const env = envSchema.parse(process.env);
  const cliPath = await findOrBuildTemporalCli({
    envPath: env.TEMPORAL_CLI_PATH,
    log: (msg) => process.stderr.write(`${msg}\n`),
  });
  if (cliPath === undefined) {
    process.stderr.write(
      'No temporal CLI found (TEMPORAL_CLI_PATH, PATH, ~/.cache/memberops/bin) and no Go toolchain on PATH to build it.\n' +
        'Install Go (https://go.dev/dl/) or set TEMPORAL_CLI_PATH to a temporal binary.\n',
    );
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${cliPath}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
