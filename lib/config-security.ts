/** Credentials and trust settings of the config (issue 10): who may call what, and what production refuses. */
import { z } from 'zod';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** The `.env.example` placeholder of STRIPE_WEBHOOK_SECRET: never a real secret. */
export const WEBHOOK_SECRET_PLACEHOLDER = 'whsec_replace_me';
/** The shortest API key production accepts. */
export const MIN_API_KEY_CHARS = 32;
const MIN_SESSION_SECRET_CHARS = 32;

/** express `trust proxy`: a hop count, true/false, or comma-separated addresses, CIDRs or names (loopback, uniquelocal). */
const trustProxy = z
  .string()
  .trim()
  .min(1)
  .transform((v): boolean | number | string[] => {
    if (/^\d+$/.test(v)) return Number(v);
    if (v === 'true' || v === 'false') return v === 'true';
    return v.split(',').map((p) => p.trim()).filter(Boolean);
  });

export const securityEnvShape = {
  /** API keys of the app, comma separated (several while rotating): `Authorization: Bearer <key>`. */
  API_KEYS: z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(',').map((k) => k.trim()).filter(Boolean)),
  /** The founder's sign-in email for /admin. */
  ADMIN_EMAIL: optionalString.pipe(z.email('is not a valid email address').optional()),
  /** argon2 hash of the founder's password, printed by `npm run -s admin:hash`. */
  ADMIN_PASSWORD_HASH: optionalString.pipe(z.string().startsWith('$argon2', 'must be an argon2 hash (npm run -s admin:hash)').optional()),
  /** Signs the founder's session cookie; unset outside production: a random one per process. */
  SESSION_SECRET: optionalString,
  /** Identity verification secret of the Intercom Messenger: signs the JWT of GET /members/:id/messenger. */
  INTERCOM_MESSENGER_SECRET: optionalString,
  /** Intercom workspace (app) id the app boots the Messenger with. */
  INTERCOM_APP_ID: optionalString,
  /** express `trust proxy`: hops, or proxies' addresses/CIDRs, whose X-Forwarded-For is believed (rate limits). */
  TRUST_PROXY: trustProxy.default(['loopback']),
  /** PEM file of the client certificate for mTLS to Temporal (with TEMPORAL_TLS_KEY). */
  TEMPORAL_TLS_CERT: optionalString,
  /** PEM file of the client certificate's private key. */
  TEMPORAL_TLS_KEY: optionalString,
  /** PEM file of the CA that signed the Temporal server's certificate (unset: the system's CAs). */
  TEMPORAL_TLS_CA: optionalString,
  /** Temporal Cloud API key (turns TLS on). */
  TEMPORAL_API_KEY: optionalString,
  /** GET /members/* per client IP and minute. */
  MEMBER_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(1200),
  /** POST /admin/login attempts per client IP and 15 minutes. */
  ADMIN_LOGIN_ATTEMPTS_PER_15_MINUTES: z.coerce.number().int().min(1).max(10_000).default(10),
};

/** The security variables alone (their types; envSchema holds them with the rest). */
export const securityEnvObject = z.object(securityEnvShape);
type SecurityEnv = z.infer<typeof securityEnvObject>;

interface RefineCtx {
  addIssue(issue: { code: 'custom'; path: string[]; message: string }): void;
}

/** Settings that are wrong anywhere. */
export function refineSecurity(env: SecurityEnv, ctx: RefineCtx): void {
  if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) {
    const missing = env.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'is required with the other half of the client certificate' });
  }
  if (env.ADMIN_PASSWORD_HASH && !env.ADMIN_EMAIL) {
    ctx.addIssue({ code: 'custom', path: ['ADMIN_EMAIL'], message: 'is required with ADMIN_PASSWORD_HASH' });
  }
}

/** Which process reads the config: only the API holds API keys, the founder's sign-in and sessions. */
export type ConfigPart = 'api' | 'worker';

/** What NODE_ENV=production refuses to start with, each naming its variable. */
export function productionIssues(
  env: SecurityEnv & { STRIPE_WEBHOOK_SECRET: string; STRIPE_SECRET_KEY?: string },
  part: ConfigPart,
): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const secret = env.STRIPE_WEBHOOK_SECRET;
  if (!secret.startsWith('whsec_') || secret === WEBHOOK_SECRET_PLACEHOLDER) {
    issues.push({ path: 'STRIPE_WEBHOOK_SECRET', message: 'must be the whsec_… secret of your Stripe endpoint in production (not the .env.example placeholder)' });
  }
  if (env.STRIPE_SECRET_KEY?.startsWith('sk_test_')) {
    issues.push({ path: 'STRIPE_SECRET_KEY', message: 'is a test-mode key (sk_test_…) but NODE_ENV=production' });
  }
  if (part === 'worker') return issues;
  if (!env.API_KEYS.some((k) => k.length >= MIN_API_KEY_CHARS)) {
    issues.push({ path: 'API_KEYS', message: `needs at least one key of ${MIN_API_KEY_CHARS}+ characters in production (openssl rand -hex 32)` });
  }
  if (!env.ADMIN_PASSWORD_HASH) {
    issues.push({ path: 'ADMIN_PASSWORD_HASH', message: 'is required in production (npm run -s admin:hash)' });
  }
  if (!env.SESSION_SECRET || env.SESSION_SECRET.length < MIN_SESSION_SECRET_CHARS) {
    issues.push({ path: 'SESSION_SECRET', message: `must be ${MIN_SESSION_SECRET_CHARS}+ characters in production (openssl rand -hex 32)` });
  }
  return issues;
}

export interface SecurityConfig {
  apiKeys: string[];
  admin: { email?: string; passwordHash?: string; loginAttemptsPer15Minutes: number };
  sessionSecret?: string;
  trustProxy: boolean | number | string[];
  memberRateLimitPerMinute: number;
}

export function securityConfig(e: SecurityEnv): SecurityConfig {
  return {
    apiKeys: e.API_KEYS,
    admin: { email: e.ADMIN_EMAIL, passwordHash: e.ADMIN_PASSWORD_HASH, loginAttemptsPer15Minutes: e.ADMIN_LOGIN_ATTEMPTS_PER_15_MINUTES },
    sessionSecret: e.SESSION_SECRET,
    trustProxy: e.TRUST_PROXY,
    memberRateLimitPerMinute: e.MEMBER_RATE_LIMIT_PER_MINUTE,
  };
}
