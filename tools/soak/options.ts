/** What a soak run is asked to do, its defaults, and the `npm run soak -- --flag value` parser. */
import { z } from 'zod';

export const FAULT_KINDS = ['worker-kill', 'temporal-restart', 'api-restart', 'pg-outage', 'intercom-faults'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  /** Members in the community. */
  members: number;
  /** Length of the simulated month, in days. */
  days: number;
  /** Simulated seconds per real second: 3600 plays a 30-day month in 12 minutes. */
  speedup: number;
  seed: number;
  /** Faults injected during the month, each once, spread over it. */
  faults: FaultKind[];
  /** CRM sync and member messages through the fake Intercom (off: notices are only logged). */
  crm: boolean;
  /** Hard bound of the whole run (set-up, month, settle, check). */
  maxMinutes: number;
  /** Share of deliveries sent twice (same id, same body), as Stripe does. */
  duplicateRate: number;
  /** Share of events delivered late, after later events of the same member. */
  lateRate: number;
  /**
   * One "dunning day" in real seconds: grace 3 days, reminders at 0, 3 and 6 days, cancel after 9 days. Never shorter
   * than the month's day, and long enough that a fault cannot move a payment across a deadline (see README of soak).
   */
  dunningDaySeconds: number;
  /** Continue-as-new threshold of member workflows (small, so the soak crosses it). */
  historyLimit: number;
  /** Delivery attempts per webhook before the generator gives up (as Stripe does after 3 days). */
  maxDeliveryAttempts: number;
  /** Webhook requests in flight at once. */
  concurrency: number;
  /** How long a fault lasts where it has a duration (pg-outage, intercom-faults). */
  faultSeconds: number;
  /** Superuser connection string of the PostgreSQL server the soak creates its database on. */
  pgAdminUrl: string;
  /** The `temporal` CLI; default: TEMPORAL_CLI_PATH, PATH, or the cached build (tools/testkit/temporal-cli.ts). */
  temporalCliPath?: string;
  /** Where the report is written (JSON); undefined: not written. */
  reportFile?: string;
  /** Keep the run directory (child logs, Temporal db) and the database after the run. */
  keepRunDir: boolean;
  /** Stops the run early (Ctrl-C): deliveries stop, nothing is checked, everything started is stopped and dropped. */
  signal?: AbortSignal;
  log: (line: string) => void;
}

export const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function defaultOptions(input: Partial<SoakOptions> = {}): SoakOptions {
  // An option passed as undefined means "the default", not "unset".
  const overrides = Object.fromEntries(
    Object.entries(input).filter(([, v]) => v !== undefined),
  ) as Partial<SoakOptions>;
  const speedup = overrides.speedup ?? 3600;
  const daySeconds = 86_400 / speedup;
  return {
    members: 100,
    days: 30,
    speedup,
    seed: 1,
    faults: [],
    crm: true,
    maxMinutes: 30,
    duplicateRate: 0.05,
    lateRate: 0.05,
    dunningDaySeconds: Math.max(daySeconds, 8),
    historyLimit: 150,
    maxDeliveryAttempts: 12,
    concurrency: 24,
    faultSeconds: 10,
    pgAdminUrl: process.env['TEST_PG_URL'] ?? DEFAULT_PG_ADMIN_URL,
    keepRunDir: false,
    log: (line) => process.stderr.write(`[soak] ${line}\n`),
    ...overrides,
  };
}

const positiveInt = z.coerce.number().int().positive();
const cliSchema = z
  .object({
    members: positiveInt.max(100_000).optional(),
    days: z.coerce.number().positive().max(62).optional(),
    speedup: z.coerce.number().positive().optional(),
    seed: z.coerce.number().int().nonnegative().optional(),
    faults: z
      .string()
      .transform((v, ctx) => {
        const parts = v
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p && p !== 'none');
        const unknown = parts.filter((p) => !(FAULT_KINDS as readonly string[]).includes(p));
        if (unknown.length) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown fault ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`,
          });
          return z.NEVER;
        }
        return parts as FaultKind[];
      })
      .optional(),
    crm: z
      .enum(['on', 'off'])
      .transform((v) => v === 'on')
      .optional(),
    'max-minutes': z.coerce.number().positive().optional(),
    'duplicate-rate': z.coerce.number().min(0).max(0.5).optional(),
    'late-rate': z.coerce.number().min(0).max(0.5).optional(),
    'dunning-day-seconds': z.coerce.number().positive().optional(),
    'history-limit': z.coerce.number().int().min(20).optional(),
    'max-attempts': positiveInt.max(50).optional(),
    concurrency: positiveInt.max(512).optional(),
    'fault-seconds': z.coerce.number().positive().max(600).optional(),
    report: z.string().min(1).optional(),
    'keep-run-dir': z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  })
  .strict();

export const USAGE = `npm run soak -- [--members 1000] [--days 30] [--speedup 3600] [--seed 1]
  [--faults worker-kill,temporal-restart,api-restart,pg-outage,intercom-faults] [--crm on|off] [--max-minutes 30]
  [--duplicate-rate 0.05] [--late-rate 0.05] [--dunning-day-seconds N] [--history-limit 150] [--max-attempts 12]
  [--concurrency 24] [--fault-seconds 10] [--report .data/soak-last.json] [--keep-run-dir true]`;

/** Parses `--name value` pairs; throws with the usage on anything unknown or invalid. */
export function parseCli(argv: string[]): Partial<SoakOptions> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const name = m[1] as string;
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
    raw[name] = value;
  }
  const r = cliSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  --${i.path.join('.') || '?'}: ${i.message}`);
    throw new Error(`invalid arguments:\n${lines.join('\n')}\n${USAGE}`);
  }
  const c = r.data;
  const out: Partial<SoakOptions> = {};
  if (c.members !== undefined) out.members = c.members;
  if (c.days !== undefined) out.days = c.days;
  if (c.speedup !== undefined) out.speedup = c.speedup;
  if (c.seed !== undefined) out.seed = c.seed;
  if (c.faults !== undefined) out.faults = c.faults;
  if (c.crm !== undefined) out.crm = c.crm;
  if (c['max-minutes'] !== undefined) out.maxMinutes = c['max-minutes'];
  if (c['duplicate-rate'] !== undefined) out.duplicateRate = c['duplicate-rate'];
  if (c['late-rate'] !== undefined) out.lateRate = c['late-rate'];
  if (c['dunning-day-seconds'] !== undefined) out.dunningDaySeconds = c['dunning-day-seconds'];
  if (c['history-limit'] !== undefined) out.historyLimit = c['history-limit'];
  if (c['max-attempts'] !== undefined) out.maxDeliveryAttempts = c['max-attempts'];
  if (c.concurrency !== undefined) out.concurrency = c.concurrency;
  if (c['fault-seconds'] !== undefined) out.faultSeconds = c['fault-seconds'];
  if (c.report !== undefined) out.reportFile = c.report;
  if (c['keep-run-dir'] !== undefined) out.keepRunDir = c['keep-run-dir'];
  return out;
}

/** The dunning policy of a run, in real milliseconds (what the worker gets as DUNNING_* and the oracle models). */
export interface SoakDunningPolicy {
  graceMs: number;
  remindersMs: number[];
  cancelAfterMs: number;
}

export function dunningPolicy(o: Pick<SoakOptions, 'dunningDaySeconds'>): SoakDunningPolicy {
  const day = Math.round(o.dunningDaySeconds * 1000);
  return { graceMs: 3 * day, remindersMs: [0, 3 * day, 6 * day], cancelAfterMs: 9 * day };
}
