/** Checks that need nothing but the configuration: the Stripe key's mode, the webhook secret, the credentials. */
import { MIN_API_KEY_CHARS, WEBHOOK_SECRET_PLACEHOLDER } from '../../lib/config-security';
import type { Config } from '../../lib/config';
import { fail, ok, type CheckResult } from './check';

/** A key as it may be printed: its mode prefix only. */
const keyKind = (key: string): string => key.match(/^(sk|rk)_(live|test)_/)?.[0] ?? 'an unknown kind of key';

export function stripeKeyCheck(config: Config): CheckResult {
  const id = 'stripe.key';
  const key = config.stripe.secretKey;
  if (!key)
    return fail(
      id,
      'STRIPE_SECRET_KEY is not set',
      'Set STRIPE_SECRET_KEY (Stripe Dashboard → Developers → API keys; a restricted rk_ key works).',
    );
  const live = /^(sk|rk)_live_/.test(key);
  const test = /^(sk|rk)_test_/.test(key);
  const env = `NODE_ENV=${config.nodeEnv}`;
  if (!live && !test)
    return fail(
      id,
      `STRIPE_SECRET_KEY is ${keyKind(key)}`,
      'Use a secret (sk_…) or restricted (rk_…) key from the Stripe Dashboard.',
    );
  if (config.nodeEnv === 'production' && test)
    return fail(
      id,
      `a test-mode key (${keyKind(key)}…) with ${env}`,
      'Put the live key (sk_live_… or rk_live_…) in STRIPE_SECRET_KEY.',
    );
  if (config.nodeEnv !== 'production' && live)
    return fail(
      id,
      `a live key (${keyKind(key)}…) with ${env}: real cards would be charged`,
      'Set NODE_ENV=production for the live deployment, or use a test key (sk_test_…) here.',
    );
  return ok(id, `${live ? 'live' : 'test'}-mode key with ${env}`);
}

/** Stripe's signing secrets are `whsec_` and 32 base64 characters; the stand-ins people paste are shorter. */
const WEBHOOK_SECRET_SHAPE = /^whsec_[A-Za-z0-9+/=]{24,}$/;

export function webhookSecretCheck(config: Config): CheckResult {
  const id = 'stripe.webhook_secret';
  const secret = config.stripe.webhookSecret;
  const fix =
    "Copy the endpoint's signing secret (Developers → Webhooks → your endpoint → Signing secret) into STRIPE_WEBHOOK_SECRET.";
  if (secret === WEBHOOK_SECRET_PLACEHOLDER)
    return fail(id, 'STRIPE_WEBHOOK_SECRET is unset or the .env.example placeholder', fix);
  if (!WEBHOOK_SECRET_SHAPE.test(secret))
    return fail(
      id,
      `STRIPE_WEBHOOK_SECRET does not look like a signing secret (whsec_ and 24+ characters; it has ${secret.length})`,
      fix,
    );
  return ok(id, 'STRIPE_WEBHOOK_SECRET looks like a Stripe signing secret (whsec_…)');
}

export function credentialChecks(config: Config): CheckResult[] {
  const { apiKeys, admin, sessionSecret } = config.security;
  const strong = apiKeys.filter((k) => k.length >= MIN_API_KEY_CHARS).length;
  const keys =
    strong > 0
      ? ok('credentials.api_keys', `${apiKeys.length} API key(s), ${strong} of ${MIN_API_KEY_CHARS}+ characters`)
      : fail(
          'credentials.api_keys',
          apiKeys.length === 0 ? 'API_KEYS is not set' : `no API key of ${MIN_API_KEY_CHARS}+ characters`,
          'Set API_KEYS to a key from `openssl rand -hex 32` and give the same key to your app.',
        );
  const missing = [
    ...(admin.email ? [] : ['ADMIN_EMAIL']),
    ...(admin.passwordHash ? [] : ['ADMIN_PASSWORD_HASH']),
    ...(sessionSecret && sessionSecret.length >= 32 ? [] : ['SESSION_SECRET (32+ characters)']),
  ];
  const founder =
    missing.length === 0
      ? ok('credentials.admin', `founder sign-in for ${admin.email ?? ''} with an argon2 hash and a session secret`)
      : fail(
          'credentials.admin',
          `missing: ${missing.join(', ')}`,
          'Set ADMIN_EMAIL, ADMIN_PASSWORD_HASH (`npm run -s admin:hash`) and SESSION_SECRET (`openssl rand -hex 32`).',
        );
  return [keys, founder];
}
