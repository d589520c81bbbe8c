import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureSearchAttributes } from '../../lib/search-attributes';
import { findOrBuildTemporalCli } from '../../tools/testkit/temporal-cli';
import { TemporalDevServer } from '../../tools/testkit/temporal-dev-server';
import { createTestDatabase, type TestDatabase } from '../../tools/testkit/pg';

/** What the global setup leaves for the global teardown (jest runs both in the same process). */
export interface MemberopsTestGlobals {
  server?: TemporalDevServer;
  /** Kept apart from `server` so the teardown can still kill the process if the handle is unusable. */
  serverPid?: number;
  /** Only when no CLI binary was found: a server downloaded and run by @temporalio/testing. */
  fallbackEnv?: TestWorkflowEnvironment;
  database?: TestDatabase;
}

declare global {
  // A `declare global` variable must be `var`.
  var __MEMBEROPS_TEST__: MemberopsTestGlobals | undefined;
}

const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function log(msg: string): void {
  process.stderr.write(`[global-setup] ${msg}\n`);
}

/**
 * Starts one shared Temporal dev server and creates one fresh PostgreSQL database for the whole run, and publishes them
 * to the test workers through MEMBEROPS_TEST_* environment variables (workers inherit this process's environment).
 * Migrations are left to the tests.
 */
export default async function globalSetup(): Promise<void> {
  const globals: MemberopsTestGlobals = {};
  globalThis.__MEMBEROPS_TEST__ = globals;
  const adminUrl = process.env.TEST_PG_URL ?? DEFAULT_PG_ADMIN_URL;

  try {
    const cliPath = await findOrBuildTemporalCli({ envPath: process.env.TEMPORAL_CLI_PATH, log });
    if (cliPath !== undefined) {
      const server = await TemporalDevServer.start({ cliPath, headless: true });
      globals.server = server;
      globals.serverPid = server.pid;
      process.env.MEMBEROPS_TEST_TEMPORAL_CLI = cliPath;
      process.env.MEMBEROPS_TEST_TEMPORAL_ADDRESS = server.address;
      log(`Temporal dev server ${server.address} (pid ${server.pid}, log ${server.logFile})`);
    } else {
      // No binary and no Go: let @temporalio/testing download a CLI release (needs internet). Tests that drive the
      // binary themselves (restart, crash) skip when MEMBEROPS_TEST_TEMPORAL_CLI is unset.
      log('No temporal CLI and no Go toolchain; falling back to the server downloaded by @temporalio/testing');
      const env = await TestWorkflowEnvironment.createLocal({ server: { ip: '127.0.0.1' } });
      globals.fallbackEnv = env;
      await ensureSearchAttributes(env.connection, 'default', log);
      process.env.MEMBEROPS_TEST_TEMPORAL_ADDRESS = env.address;
    }

    globals.database = await createTestDatabase(adminUrl);
    process.env.MEMBEROPS_TEST_DATABASE_URL = globals.database.url;
    process.env.MEMBEROPS_TEST_PG_ADMIN_URL = adminUrl;
  } catch (err) {
    // Jest does not run the global teardown when the setup fails, so undo what was started here.
    await globals.server?.stop();
    await globals.fallbackEnv?.teardown();
    await globals.database?.drop();
    globalThis.__MEMBEROPS_TEST__ = undefined;
    throw err;
  }
}
