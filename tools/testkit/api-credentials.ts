/**
 * The credentials the test kit's stacks (bench, soak) start memberops with: an app key they send on every API call,
 * and the founder settings a production-mode API refuses to start without (nobody signs in during a run).
 */
import { randomBytes } from 'node:crypto';

/** One key per process, 48 hex characters (production wants 32+). */
export const KIT_API_KEY = `mk_kit_${randomBytes(24).toString('hex')}`;

/** The header the app sends: `Authorization: Bearer <key>`. */
export const kitAuthHeaders: Readonly<Record<string, string>> = { authorization: `Bearer ${KIT_API_KEY}` };

/** Environment of a memberops API child; the hash is of no known password, so the founder pages stay shut. */
export function kitCredentialsEnv(): Record<string, string> {
  return {
    API_KEYS: KIT_API_KEY,
    ADMIN_EMAIL: 'founder@kit.test',
    ADMIN_PASSWORD_HASH: `$argon2id$v=19$m=19456,t=2,p=1$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`,
    SESSION_SECRET: randomBytes(32).toString('hex'),
  };
}

/**
 * The bench and the soak send all their load from one loopback client: the per-IP limit that protects member routes
 * from a stranger would otherwise throttle the measurement itself.
 */
export const kitLoadLimitsEnv: Readonly<Record<string, string>> = { MEMBER_RATE_LIMIT_PER_MINUTE: '1000000' };
