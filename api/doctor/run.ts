/** `npm run doctor`: the launch-readiness checklist, every check run against the deployment's real settings. */
import { createStripeClient } from '../../lib/clients';
import { ConfigError, loadConfig, type Config } from '../../lib/config';
import { WEBHOOK_SECRET_PLACEHOLDER } from '../../lib/config-security';
import { fail, formatChecklist, type CheckResult } from './check';
import { migrationCheck } from './db-checks';
import { mailDnsChecks } from './dns-checks';
import { intercomChecks } from './intercom-checks';
import { credentialChecks, stripeKeyCheck, webhookSecretCheck } from './local-checks';
import { stripeEndpointChecks } from './stripe-checks';
import { temporalChecks } from './temporal-checks';

/** Every check, in the order of the checklist; independent groups run concurrently. */
export async function runChecks(config: Config): Promise<CheckResult[]> {
  const stripe = config.stripe.secretKey
    ? createStripeClient({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase, timeoutMs: 10_000 })
    : undefined;
  const [endpoint, temporal, migrations, intercom, mail] = await Promise.all([
    stripeEndpointChecks(stripe, config.publicUrl),
    temporalChecks(config.temporal),
    migrationCheck(config.databaseUrl),
    intercomChecks(config.intercom),
    mailDnsChecks(config.mail, config.doctorDnsServers),
  ]);
  return [
    stripeKeyCheck(config),
    ...endpoint,
    webhookSecretCheck(config),
    ...temporal,
    migrations,
    ...intercom,
    ...mail,
    ...credentialChecks(config),
  ];
}

/**
 * Reads the environment without the production guards (each is a line of the checklist instead) and runs the checks.
 * A missing webhook secret becomes the placeholder, so that its own line reports it. Exit code 1 on any failure.
 */
export async function doctor(
  env: Record<string, string | undefined>,
): Promise<{ exitCode: number; output: string; results: CheckResult[] }> {
  let config: Config;
  try {
    config = loadConfig(
      { ...env, STRIPE_WEBHOOK_SECRET: env['STRIPE_WEBHOOK_SECRET']?.trim() || WEBHOOK_SECRET_PLACEHOLDER },
      { productionGuards: false },
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const results = [
      fail('config', err.message.replace(/\n\s*/g, ' '), 'Fix the variables named above (see .env.example).'),
    ];
    return { exitCode: 1, output: formatChecklist(results), results };
  }
  const results = await runChecks(config);
  return { exitCode: results.some((r) => r.status === 'fail') ? 1 : 0, output: formatChecklist(results), results };
}
