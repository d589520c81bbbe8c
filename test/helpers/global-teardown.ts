import type { MemberopsTestGlobals } from './global-setup';

/** Stops the shared Temporal server and drops the shared database; attempts both even if one fails. */
export default async function globalTeardown(): Promise<void> {
  const globals: MemberopsTestGlobals | undefined = globalThis.__MEMBEROPS_TEST__;
  if (globals === undefined) return;
  globalThis.__MEMBEROPS_TEST__ = undefined;

  const failures: unknown[] = [];
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      failures.push(new Error(`global teardown could not ${what}`, { cause: err }));
    }
  };

  await attempt('stop the Temporal dev server', async () => {
    if (globals.server !== undefined) {
      await globals.server.stop();
    } else if (globals.serverPid !== undefined) {
      killIfAlive(globals.serverPid);
    }
  });
  await attempt('tear down the @temporalio/testing server', async () => {
    await globals.fallbackEnv?.teardown();
  });
  await attempt('drop the test database', async () => {
    await globals.database?.drop();
  });

  if (failures.length > 0) throw new AggregateError(failures, failures.map((f) => String(f)).join('; '));
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ESRCH')) throw err;
  }
}
