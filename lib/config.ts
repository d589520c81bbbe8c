import ms from 'ms';
import { z } from 'zod';
import { DEFAULT_DUNNING_POLICY, type DunningPolicy } from '../workflows/messages';
import { DEFAULT_AUTO_REPLY_MIN_CONFIDENCE } from './support/rules';
import { productionIssues, refineSecurity, securityConfig, securityEnvShape, type ConfigPart, type SecurityConfig } from './config-security';

/** A duration in the Temporal / `ms` string form (`10s`, `3 days`, `500ms`), parsed to milliseconds. */
const durationMs = z
  .string()
  .trim()
  .min(1)
  .transform((value, ctx) => {
    // `ms` returns undefined for garbage and NaN for some edge cases; both are a config error.
    const parsed = /^\d+$/.test(value) ? Number(value) : (ms(value as ms.StringValue) as number | undefined);
    if (parsed === undefined || !Number.isFinite(parsed) || parsed < 0) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (examples: 10s, 3 days, 500ms)` });
      return z.NEVER;
    }
    return parsed;
  });

const durationList = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const out: number[] = [];
    for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
      const r = durationMs.safeParse(part);
      if (!r.success) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not a duration (examples: 0s, 3 days)` });
        return z.NEVER;
      }
      out.push(r.data);
    }
    return out.sort((a, b) => a - b);
  });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const port = z.coerce.number().int().min(0).max(65535);

/** Every environment variable memberops reads, with its default. Documented one-to-one in `.env.example`. */
export const envSchema = z
  .object({
    /** `production` turns on the production guards (real webhook secret, live Stripe key, API keys, admin hash). */
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** HTTP port of the API. */
    PORT: port.default(3000),
    /** HTTP port of the worker's own GET /metrics (API key required); unset: the worker serves none. */
    WORKER_METRICS_PORT: port.optional(),
    /** Workflow tasks the worker runs at once (SDK default 40); see the README's Benchmarks section. */
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1000).optional(),
    /**
     * Member workflows kept in the worker's sticky cache (SDK default: from the heap size). Not 0: the projection is a
     * local activity, which needs its workflow cached (measured: with 0 the worker stalls).
     */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(10).max(1_000_000).optional(),
    /**
     * How long a member's next workflow task waits for the worker that holds the member in its cache before any worker
     * may take it (and replay the member's history). The SDK's 10s timed out under a renewal day's load on 2 cores
     * and each timeout cost ~10s of lag; longer delays the takeover after a worker crash by as much.
     */
    WORKER_STICKY_QUEUE_TIMEOUT: durationMs
      .pipe(z.number().min(1_000, 'must be at least 1s').max(300_000, 'must be at most 5m'))
      .default(ms('20s')),
    /** PostgreSQL connection string; unset under `npm start` means an embedded PostgreSQL under `.data/`. */
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// connection string')
        .optional(),
    ),
    /** host:port of the Temporal frontend; unset under `npm start` means a local dev server. */
    TEMPORAL_ADDRESS: optionalString,
    /** Temporal namespace. */
    TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
    /** Task queue the worker polls and the API starts workflows on. */
    TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('memberops'),
    /** host:port where the worker's Temporal SDK runtime serves its own Prometheus metrics (no auth); unset: none. */
    TEMPORAL_METRICS_ADDRESS: optionalString.pipe(
      z
        .string()
        .regex(/^(\[[0-9a-f:]+\]|[\w.-]+):\d{1,5}$/i, 'must be host:port (127.0.0.1:9465, 0.0.0.0:9465)')
        .optional(),
    ),
    /** Stripe secret key, used by activities that call the Stripe API (portal links, cancellation, dispute lookup). */
    STRIPE_SECRET_KEY: optionalString,
    /** Signing secret of the Stripe webhook endpoint (`whsec_…`). Required. */
    STRIPE_WEBHOOK_SECRET: z
      .string({ error: 'is required (the signing secret of your Stripe webhook endpoint, whsec_…)' })
      .trim()
      .min(1, 'is required (the signing secret of your Stripe webhook endpoint, whsec_…)'),
    /** Base URL of the Stripe API; only set it to point at a local stand-in in tests. */
    STRIPE_API_BASE: optionalString.pipe(z.url().optional()),
    /** How often the `memberops-reconcile` Schedule re-checks Stripe (a duration, e.g. 1h, 15m), or `off`. Needs STRIPE_SECRET_KEY. */
    RECONCILE_EVERY: z
      .string()
      .trim()
      .default('1h')
      .pipe(z.union([z.literal('off'), durationMs.pipe(z.number().min(60_000, 'must be at least 1m'))])),
    /** Stripe requests per second of `npm run backfill` (Stripe allows 100/s live, 25/s in test mode); 0: unthrottled. */
    BACKFILL_REQUESTS_PER_SECOND: z.coerce.number().min(0).max(100).default(10),
    /** How long a member keeps access after a failed payment. */
    DUNNING_GRACE_PERIOD: durationMs.default(DEFAULT_DUNNING_POLICY.gracePeriodMs),
    /** Reminder offsets from the first failure, comma separated. */
    DUNNING_REMINDERS: durationList.default(() => [...DEFAULT_DUNNING_POLICY.remindersMs]),
    /** When an unpaid member is finally canceled, counted from the first failure. */
    DUNNING_CANCEL_AFTER: durationMs.default(DEFAULT_DUNNING_POLICY.cancelAfterMs),
    /** What the final dunning step does: cancel the subscription in Stripe, or only mark it canceled here. */
    DUNNING_FINAL_ACTION: z.enum(['cancel_in_stripe', 'mark_canceled']).default(DEFAULT_DUNNING_POLICY.finalAction),
    /** A member workflow continues-as-new after this many history events (or earlier when Temporal suggests it). */
    MEMBER_HISTORY_LIMIT: z.coerce.number().int().min(20).max(50_000).default(5000),
    /** Intercom access token; unset turns CRM sync and Intercom messages off. */
    INTERCOM_ACCESS_TOKEN: optionalString,
    /** Base URL of the Intercom API (regional hosts, or a local stand-in in tests). */
    INTERCOM_BASE_URL: optionalString.pipe(z.url().optional()),
    /** Where the app's members update their card after the Billing Portal session ends. */
    BILLING_PORTAL_RETURN_URL: optionalString.pipe(z.url().optional()),
    /** Client secret of the Intercom app: verifies `X-Hub-Signature` of Intercom webhooks (unset: they answer 503). */
    INTERCOM_CLIENT_SECRET: optionalString,
    /** Intercom admin that authors support replies, tags and assignments; unset: the token's admin (GET /me). */
    INTERCOM_ADMIN_ID: optionalString.pipe(z.string().regex(/^\d+$/, 'must be a numeric Intercom admin id').optional()),
    /** Intercom team inbox that conversations needing a person are assigned to; unset: the admin above. */
    INTERCOM_SUPPORT_TEAM_ID: optionalString.pipe(z.string().regex(/^\d+$/, 'must be a numeric Intercom team id').optional()),
    /** Sign-in page of the app, quoted in account-access replies; unset: those requests go to a person. */
    APP_LOGIN_URL: optionalString.pipe(z.url().optional()),
    /** Where members cancel themselves (a URL or "Settings → Membership"), quoted in cancellation replies; unset: a person answers. */
    APP_CANCEL_PATH: optionalString,
    /** POST /support/requests per client IP and minute. */
    SUPPORT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
    /** Support messages classified with less confidence than this (0..1) go to a person instead of an automatic reply. */
    SUPPORT_AUTO_REPLY_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(DEFAULT_AUTO_REPLY_MIN_CONFIDENCE),
    /** Public https base URL of this deployment (`https://members.example.com`); `npm run doctor` looks for its Stripe endpoint. */
    PUBLIC_URL: optionalString.pipe(z.url().optional()),
    /** Domain member notices are sent from; `npm run doctor` checks its SPF, DKIM and DMARC records. */
    MAIL_SENDER_DOMAIN: optionalString.pipe(
      z
        .string()
        .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a domain name (example.com)')
        .optional(),
    ),
    /** DKIM selector of the sender domain (`<selector>._domainkey.<domain>`). */
    MAIL_DKIM_SELECTOR: z.string().trim().regex(/^[a-z0-9._-]+$/i, 'must be a DKIM selector (letters, digits, . _ -)').default('intercom'),
    /** DNS servers `npm run doctor` asks (`ip` or `ip:port`, comma separated); unset: the system's. */
    DOCTOR_DNS_SERVERS: z
      .string()
      .optional()
      .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
    /** Base URL of the Temporal UI; the founder's console links each member to their workflow there. */
    TEMPORAL_UI_URL: optionalString.pipe(z.url().optional()),
    /** The most a founder may extend a running grace period by, per action (a validator of the member workflow). */
    OPERATOR_MAX_GRACE_EXTENSION: durationMs.default(ms('7 days')),
    /** pino log level. */
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** json (one object a line, for log shippers) or pretty (human-readable, needs the dev dependency pino-pretty). */
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
    ...securityEnvShape,
    // ---- Failure containment (README "Failure containment") ----
    /** How often the API hands off Stripe events that were verified but never handed off (0 turns the sweep off). */
    STRIPE_REDRIVE_EVERY: durationMs.default(ms('1 minute')),
    /** PostgreSQL statement_timeout of every pooled connection (API and worker); 0 turns it off. */
    PG_STATEMENT_TIMEOUT: durationMs.default(ms('15s')),
    /** How long a member effect (notice, CRM sync, Stripe call) is retried before it is recorded as failed; 0: forever. */
    EFFECT_RETRY_DEADLINE: durationMs.default(ms('24 hours')),
  })
  .superRefine((env, ctx) => {
    refineSecurity(env, ctx);
    if (env.DUNNING_CANCEL_AFTER < env.DUNNING_GRACE_PERIOD) {
      ctx.addIssue({
        code: 'custom',
        path: ['DUNNING_CANCEL_AFTER'],
        message: 'must not be shorter than DUNNING_GRACE_PERIOD',
      });
    }
  });

type Env = z.infer<typeof envSchema>;

export interface Config {
  nodeEnv: Env['NODE_ENV'];
  port: number;
  /** WORKER_METRICS_PORT: where `npm run worker` serves its metrics. */
  workerMetricsPort?: number;
  /**
   * WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, WORKER_MAX_CACHED_WORKFLOWS (unset means the Temporal SDK's defaults) and
   * WORKER_STICKY_QUEUE_TIMEOUT.
   */
  workerTuning: {
    maxConcurrentWorkflowTaskExecutions?: number;
    maxCachedWorkflows?: number;
    stickyQueueScheduleToStartTimeoutMs?: number;
  };
  databaseUrl?: string;
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    /** TEMPORAL_METRICS_ADDRESS: the SDK runtime's Prometheus exporter (worker task latencies, slots, sticky cache). */
    metricsAddress?: string;
    tls?: { certPath?: string; keyPath?: string; caPath?: string };
    apiKey?: string;
  };
  stripe: { secretKey?: string; webhookSecret: string; apiBase?: string };
  dunning: DunningPolicy;
  memberHistoryLimit: number;
  /** RECONCILE_EVERY in ms; null: off. */
  reconcile: { everyMs: number | null };
  backfill: { requestsPerSecond: number };
  intercom: {
    accessToken?: string;
    baseUrl?: string;
    clientSecret?: string;
    adminId?: string;
    supportTeamId?: string;
    messengerSecret?: string;
    appId?: string;
  };
  security: SecurityConfig;
  /** PUBLIC_URL: the deployment's public base URL. */
  publicUrl?: string;
  /** The sender domain of member notices and its DKIM selector (checked by `npm run doctor`). */
  mail: { senderDomain?: string; dkimSelector: string };
  /** DOCTOR_DNS_SERVERS: where the doctor resolves TXT records; empty: the system's resolvers. */
  doctorDnsServers: string[];
  billingPortalReturnUrl?: string;
  support: { loginUrl?: string; cancelPath?: string; rateLimitPerMinute: number; autoReplyMinConfidence?: number };
  /** The founder's console (api/admin/console-*.ts) and its operator actions. */
  console: { temporalUiUrl?: string; maxGraceExtensionMs: number };
  logLevel: Env['LOG_LEVEL'];
  logFormat: Env['LOG_FORMAT'];
  /** Failure containment: re-drive sweep, deadlines of effects and queries. */
  containment: { redriveEveryMs: number; statementTimeoutMs: number; effectDeadlineMs: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once; throws a ConfigError naming every bad variable. `part` says which process reads it:
 * production refuses an API without API keys, admin hash or session secret, but the worker needs none of them.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
  opts: { part?: ConfigPart; productionGuards?: boolean } = {},
): Config {
  const result = envSchema.safeParse(env);
  // The doctor reads a production config without the guards, to report each of them as a line of its own.
  const issues = result.success
    ? result.data.NODE_ENV === 'production' && opts.productionGuards !== false
      ? productionIssues(result.data, opts.part ?? 'api')
      : []
    : result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  if (!result.success || issues.length > 0) {
    const lines = issues.map((issue) => `  ${issue.path || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = result.data;
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    workerTuning: {
      ...(e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS === undefined
        ? {}
        : { maxConcurrentWorkflowTaskExecutions: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS }),
      ...(e.WORKER_MAX_CACHED_WORKFLOWS === undefined ? {} : { maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS }),
      stickyQueueScheduleToStartTimeoutMs: e.WORKER_STICKY_QUEUE_TIMEOUT,
    },
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      metricsAddress: e.TEMPORAL_METRICS_ADDRESS,
      ...(e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_CA
        ? { tls: { certPath: e.TEMPORAL_TLS_CERT, keyPath: e.TEMPORAL_TLS_KEY, caPath: e.TEMPORAL_TLS_CA } }
        : {}),
      apiKey: e.TEMPORAL_API_KEY,
    },
    stripe: { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBase: e.STRIPE_API_BASE },
    dunning: {
      gracePeriodMs: e.DUNNING_GRACE_PERIOD,
      remindersMs: e.DUNNING_REMINDERS,
      cancelAfterMs: e.DUNNING_CANCEL_AFTER,
      finalAction: e.DUNNING_FINAL_ACTION,
    },
    memberHistoryLimit: e.MEMBER_HISTORY_LIMIT,
    reconcile: { everyMs: e.RECONCILE_EVERY === 'off' ? null : e.RECONCILE_EVERY },
    backfill: { requestsPerSecond: e.BACKFILL_REQUESTS_PER_SECOND },
    intercom: {
      accessToken: e.INTERCOM_ACCESS_TOKEN,
      baseUrl: e.INTERCOM_BASE_URL,
      clientSecret: e.INTERCOM_CLIENT_SECRET,
      adminId: e.INTERCOM_ADMIN_ID,
      supportTeamId: e.INTERCOM_SUPPORT_TEAM_ID,
      messengerSecret: e.INTERCOM_MESSENGER_SECRET,
      appId: e.INTERCOM_APP_ID,
    },
    security: securityConfig(e),
    publicUrl: e.PUBLIC_URL,
    mail: { senderDomain: e.MAIL_SENDER_DOMAIN, dkimSelector: e.MAIL_DKIM_SELECTOR },
    doctorDnsServers: e.DOCTOR_DNS_SERVERS,
    billingPortalReturnUrl: e.BILLING_PORTAL_RETURN_URL,
    support: {
      loginUrl: e.APP_LOGIN_URL,
      cancelPath: e.APP_CANCEL_PATH,
      rateLimitPerMinute: e.SUPPORT_RATE_LIMIT_PER_MINUTE,
      autoReplyMinConfidence: e.SUPPORT_AUTO_REPLY_MIN_CONFIDENCE,
    },
    console: { temporalUiUrl: e.TEMPORAL_UI_URL?.replace(/\/+$/, ''), maxGraceExtensionMs: e.OPERATOR_MAX_GRACE_EXTENSION },
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    containment: {
      redriveEveryMs: e.STRIPE_REDRIVE_EVERY,
      statementTimeoutMs: e.PG_STATEMENT_TIMEOUT,
      effectDeadlineMs: e.EFFECT_RETRY_DEADLINE,
    },
  };
}
