/**
 * `npm run bench`: memberops against a bare express + PostgreSQL baseline, measured in the same run on this machine,
 * on the Temporal dev server and then on the PostgreSQL-backed Temporal server, printed side by side.
 *
 *   npm run bench                      1,000 members, webhooks at 200 events/s, both servers
 *   npm run bench -- --quick           200 members, fewer requests
 *   npm run bench -- --members 500 --rate 100
 *   npm run bench -- --temporal dev    one server only (or `server`: tools/testkit/temporal-server)
 *   npm run bench -- --scenario renewal-day --members 1000     the renewal day (tools/bench/renewal.ts)
 *
 * Self-contained: per server, a Temporal (dev server in memory, or server on fresh PostgreSQL databases), a fresh PostgreSQL database (dropped at the end), the real worker
 * and API as child processes (`node --import tsx worker/main.ts`, `… api/main.ts`), the baseline as a third child
 * (tools/bench/baseline-server.ts). The load comes from this process over keep-alive HTTP on 127.0.0.1. Prints a
 * table and writes every figure to .data/bench-last*.json. See tools/bench/phases.ts for what each phase measures.
 */
import { kitCredentialsEnv, kitLoadLimitsEnv } from '../testkit/api-credentials';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { createDb, migrate } from '../../lib/db';
import { findFreePort } from '../testkit/temporal-dev-server';
import { createTestDatabase } from '../testkit/pg';
import { BASELINE_ACCESS_TABLE, BASELINE_EVENTS_TABLE } from './baseline-server';
import { HttpTarget } from './load';
import { installProjectionTrigger, ProjectionWatch } from './projection-watch';
import { runPhases, type BenchOptions, type Stack } from './phases';
import { ScriptProcess, waitUntil } from '../testkit/children';
import { CleanupStack } from './stack';
import { startBenchTemporal, type TemporalKind } from './temporal';
import { commandLine, machineInfo, sideBySide, type Row } from './report';
import { FULL_RENEWAL_DAY, RENEWAL_EVENTS_PER_MEMBER, runRenewalDay, type RenewalOptions } from './renewal';

const ROOT = path.resolve(__dirname, '..', '..');
const LOG_DIR = path.join(ROOT, '.data', 'bench-logs');
const RESULT_FILE = path.join(ROOT, '.data', 'bench-last.json');
const resultFileFor = (kind: TemporalKind, renewal: boolean): string =>
  path.join(ROOT, '.data', `bench-last-${renewal ? 'renewal-' : ''}${kind}.json`);
const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const TASK_QUEUE = 'memberops-bench';

/** The environment the bench reads (the same variables as the test suite; see the README's development section). */
const envSchema = z.object({
  /** A superuser URL of the local PostgreSQL on which the bench creates (and drops) its scratch database. */
  TEST_PG_URL: z
    .string()
    .default(DEFAULT_PG_ADMIN_URL)
    .refine((u) => URL.canParse(u) && ['127.0.0.1', 'localhost'].includes(new URL(u).hostname), {
      message: 'must be a postgres:// URL on 127.0.0.1 (the bench measures this machine only)',
    }),
  /** The `temporal` CLI binary; otherwise found or built by tools/testkit/temporal-cli.ts. */
  TEMPORAL_CLI_PATH: z.string().optional(),
  /** Worker tuning under test, passed to the worker only (lib/config.ts validates them); unset: the SDK defaults. */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.string().regex(/^\d+$/).optional(),
  WORKER_MAX_CACHED_WORKFLOWS: z.string().regex(/^\d+$/).optional(),
  WORKER_STICKY_QUEUE_TIMEOUT: z.string().optional(),
});

/** The worker tuning variables the bench passes on (see envSchema). */
const TUNING_KEYS = [
  'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
  'WORKER_MAX_CACHED_WORKFLOWS',
  'WORKER_STICKY_QUEUE_TIMEOUT',
] as const;

/** A bad flag or variable: reported in one line, before anything is started. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionsSchema = z.object({
  quick: z.boolean().default(false),
  temporal: z.enum(['dev', 'server', 'both']).default('both'),
  scenario: z.enum(['mixed', 'renewal-day']).default('mixed'),
  duration: count(5, 3600).optional(),
  'fail-every': count(2, 1000).default(10),
  members: count(10, 20_000).optional(),
  rate: count(1, 5_000).default(200),
  'max-in-flight': count(1, 1_000).default(64),
  'closed-concurrency': count(1, 512).default(16),
  'access-requests': count(100, 200_000).optional(),
  'access-concurrency': count(1, 512).default(8),
  'lag-samples': count(1, 5_000).optional(),
  'access-rate': count(10, 50_000).default(1000),
  'node-flags': z
    .string()
    .regex(/^(--[a-z0-9-]+(=[A-Za-z0-9._-]+)?\s*)*$/, 'is a space-separated list of node --flags')
    .default(''),
});

interface MainOptions {
  bench: BenchOptions;
  kinds: TemporalKind[];
  renewal?: RenewalOptions;
}

function parseOptions(argv: string[]): MainOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      temporal: { type: 'string' },
      scenario: { type: 'string' },
      duration: { type: 'string' },
      'fail-every': { type: 'string' },
      members: { type: 'string' },
      rate: { type: 'string' },
      'max-in-flight': { type: 'string' },
      'closed-concurrency': { type: 'string' },
      'access-requests': { type: 'string' },
      'access-concurrency': { type: 'string' },
      'lag-samples': { type: 'string' },
      'access-rate': { type: 'string' },
      'node-flags': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'npm run bench -- [--quick] [--temporal both|dev|server] [--scenario mixed|renewal-day [--duration S] [--fail-every N]] [--members N] [--rate EVENTS_PER_S] [--max-in-flight N] [--closed-concurrency N]\n' +
        '                 [--access-requests N] [--access-concurrency N] [--access-rate REQ_PER_S] [--lag-samples N]\n' +
        '                 [--node-flags "--trace-gc --max-semi-space-size=32"]   (for the worker, API and baseline alike)\n',
    );
    process.exit(0);
  }
  const r = optionsSchema.safeParse(values);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`);
    throw new UsageError(`bad options:\n${lines.join('\n')}`);
  }
  const o = r.data;
  const members = o.members ?? (o.quick ? 200 : 1000);
  // Default window: the full renewal day's rate (about 40,000 events in 15 minutes) for this many members' events.
  const duration =
    o.duration ??
    Math.max(
      10,
      Math.round(((members * RENEWAL_EVENTS_PER_MEMBER) / FULL_RENEWAL_DAY.events) * FULL_RENEWAL_DAY.seconds),
    );
  const kinds: TemporalKind[] = o.temporal === 'both' ? ['dev', 'server'] : [o.temporal];
  const bench: BenchOptions = {
    quick: o.quick,
    temporal: kinds[0] ?? 'dev',
    members,
    rate: o.rate,
    maxInFlight: o['max-in-flight'],
    closedConcurrency: o['closed-concurrency'],
    accessRequests: o['access-requests'] ?? (o.quick ? 2000 : 10_000),
    accessConcurrency: o['access-concurrency'],
    lagSamples: o['lag-samples'] ?? (o.quick ? 50 : 200),
    accessRate: o['access-rate'],
    nodeFlags: o['node-flags'].split(/\s+/).filter(Boolean),
    dunningEvery: 4,
  };
  return {
    bench,
    kinds,
    ...(o.scenario === 'renewal-day' ? { renewal: { members, durationS: duration, failEvery: o['fail-every'] } } : {}),
  };
}

const say = (m: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
};

/** Everything the phases need, started in order, each with its stop registered before the next starts. */
async function startStack(
  cleanup: CleanupStack,
  adminUrl: string,
  cliPathEnv: string | undefined,
  nodeFlags: string[],
  temporalKind: TemporalKind,
  workerTuning: Record<string, string>,
): Promise<Stack> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = (name: string): string => {
    const file = path.join(LOG_DIR, `${name}.log`);
    writeFileSync(file, '');
    return file;
  };

  const server = await startBenchTemporal(temporalKind, {
    cliPathEnv,
    pgAdminUrl: adminUrl,
    logFile: logFile('temporal'),
    say,
  });
  cleanup.push(server.describe.label, () => server.stop());

  const database = await createTestDatabase(adminUrl);
  cleanup.push('drop the bench database', () => database.drop());
  say(`database ${new URL(database.url).pathname.slice(1)} created`);
  const db = createDb(database.url);
  cleanup.push('bench PostgreSQL pool', () => db.close());
  await migrate(db);
  await installProjectionTrigger(db);
  const watch = await ProjectionWatch.start(database.url);
  cleanup.push('projection watch', () => watch.close());
  await db.query(
    `CREATE TABLE ${BASELINE_EVENTS_TABLE} (id text PRIMARY KEY, type text NOT NULL, created_at timestamptz NOT NULL,
       customer_id text, received_at timestamptz NOT NULL DEFAULT now())`,
  );
  await db.query(
    `CREATE TABLE ${BASELINE_ACCESS_TABLE} (customer_id text PRIMARY KEY, status text NOT NULL, allowed boolean NOT NULL,
       reason text NOT NULL)`,
  );
  const [pgVersion] = await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);

  const secret = `whsec_bench_${randomBytes(16).toString('hex')}`;
  const [apiPort, baselinePort] = [await findFreePort(), await findFreePort()];
  const common = {
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    STRIPE_WEBHOOK_SECRET: secret,
    ...kitCredentialsEnv(),
    ...kitLoadLimitsEnv,
    LOG_LEVEL: 'error',
    // Set, even empty, so that a developer's .env cannot switch on calls to Stripe or Intercom (variables set win).
    STRIPE_SECRET_KEY: '',
    INTERCOM_ACCESS_TOKEN: '',
  };
  const children: ScriptProcess[] = [];
  const child = (name: string, script: string, env: Record<string, string>): number => {
    const c = new ScriptProcess(name, script, { env, cwd: ROOT, logFile: logFile(name), nodeFlags });
    const pid = c.start();
    cleanup.push(`${name} process`, async () => void (await c.stop()));
    children.push(c);
    return pid;
  };
  const worker = child('worker', 'worker/main.ts', { ...common, ...workerTuning });
  const api = child('api', 'api/main.ts', { ...common, PORT: String(apiPort) });
  const baseline = child('baseline', 'tools/bench/baseline-server.ts', {
    PORT: String(baselinePort),
    DATABASE_URL: database.url,
    STRIPE_WEBHOOK_SECRET: secret,
    NODE_ENV: 'production',
  });

  const probe = new HttpTarget(`http://127.0.0.1:${apiPort}`, 64);
  const baselineProbe = new HttpTarget(`http://127.0.0.1:${baselinePort}`, 4);
  cleanup.push('HTTP agents', async () => {
    probe.close();
    baselineProbe.close();
  });
  // /readyz is 200 only once PostgreSQL answers and the worker polls the task queue (the workflow bundle is built).
  const readyMs = await waitUntil(
    'the memberops API to be ready (worker polling)',
    async () => (await probe.request('GET', '/readyz?include=worker')).status === 200,
    {
      timeoutMs: 180_000,
      intervalMs: 500,
      children,
    },
  );
  await waitUntil(
    'the baseline to answer',
    async () => (await baselineProbe.request('GET', '/healthz')).status === 200,
    {
      timeoutMs: 60_000,
      children,
    },
  );
  say(`worker, API and baseline ready (${(readyMs / 1000).toFixed(1)} s)`);

  const connection = await Connection.connect({ address: server.address });
  cleanup.push('Temporal client', () => connection.close());
  return {
    db,
    temporal: new Client({ connection, namespace: 'default' }),
    taskQueue: TASK_QUEUE,
    secret,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    baselineUrl: `http://127.0.0.1:${baselinePort}`,
    probe,
    watch,
    children,
    roles: new Map<number, string>([
      [process.pid, 'bench'],
      [server.pid, 'temporal'],
      [worker, 'worker'],
      [api, 'api'],
      [baseline, 'baseline'],
    ]),
    versions: { temporalCli: server.describe.cliPath, temporalServer: server.describe.label, postgres: pgVersion?.v },
    say,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const command = commandLine();
  const startedAt = new Date();
  let current: CleanupStack | undefined;
  let interruptedAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Ctrl-C reaches this process twice (from the terminal's process group and relayed by tsx): only a second press,
    // seconds later, skips the cleanup.
    if (interruptedAt) {
      if (Date.now() - interruptedAt > 2000) process.exit(130);
      return;
    }
    interruptedAt = Date.now();
    say(`${signal}: stopping servers and dropping the database`);
    void (current?.run() ?? Promise.resolve()).then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const env = envSchema.safeParse(process.env);
  if (!env.success) {
    throw new UsageError(env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  }
  const { bench, kinds, renewal } = options;
  const workerTuning: Record<string, string> = {};
  for (const k of TUNING_KEYS) if (env.data[k] !== undefined) workerTuning[k] = env.data[k];
  const tuned = Object.entries(workerTuning).map(([k, v]) => `${k}=${v} `);
  // The report's command line shows the tuning under test, as it would be typed.
  const shownCommand = `${tuned.join('')}${command}`;
  say(
    `${shownCommand} (${bench.members} members, ${renewal ? `renewal day in ${renewal.durationS} s` : `${bench.rate} events/s`}; ${kinds.join(' then ')})`,
  );
  const runs: Array<{ label: string; rows: Row[] }> = [];
  try {
    for (const kind of kinds) {
      const cleanup = new CleanupStack();
      current = cleanup;
      try {
        const stack = await startStack(
          cleanup,
          env.data.TEST_PG_URL,
          env.data.TEMPORAL_CLI_PATH,
          bench.nodeFlags,
          kind,
          workerTuning,
        );
        const machine = {
          ...machineInfo(stack.versions.temporalCli, stack.versions.postgres),
          temporalServer: stack.versions.temporalServer,
        };
        const resultFile = kinds.length > 1 || renewal ? resultFileFor(kind, renewal !== undefined) : RESULT_FILE;
        const runMeta = { command: shownCommand, machine, startedAt: new Date(), resultFile };
        const report = renewal
          ? await runRenewalDay(stack, { ...bench, temporal: kind }, renewal, runMeta)
          : await runPhases(stack, { ...bench, temporal: kind }, runMeta);
        process.stdout.write(`${report.text}\n`);
        runs.push({ label: kind === 'dev' ? 'dev server' : 'PostgreSQL server', rows: report.rows });
      } finally {
        const failures = await cleanup.run();
        for (const f of failures) say(`cleanup: ${f}`);
        if (failures.length) process.exitCode = 1;
      }
    }
    if (runs.length > 1) {
      process.stdout.write(
        `\nside by side, ${startedAt.toISOString()} (${shownCommand}); each ratio is to the bare baseline of the same run\n\n` +
          `${sideBySide(runs)}\n`,
      );
    }
  } finally {
    current = undefined;
  }
}

main().catch((err: unknown) => {
  if (
    err instanceof UsageError ||
    (err instanceof TypeError && 'code' in err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
  ) {
    process.stderr.write(`npm run bench: ${err.message} (--help lists the options)\n`);
  } else {
    say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    say(`server logs: ${LOG_DIR}`);
  }
  process.exitCode = 1;
});
