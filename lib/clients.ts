/**
 * Construction of the third-party API clients (their failures are classified in `http-failures.ts`).
 * Both clients have their own retry loops switched off: Temporal owns retries, so every attempt is an activity
 * attempt in the workflow history and the retry policy lives in one place.
 */
import { IntercomClient } from 'intercom-client';
import Stripe from 'stripe';

const DEFAULT_TIMEOUT_MS = 10_000;
/** The Intercom REST API version memberops is written against; pinned so a library upgrade cannot move it silently. */
const INTERCOM_API_VERSION = '2.14';

/** The real Stripe client, without library retries; `apiBase` (e.g. `http://127.0.0.1:12111`) points it at a stand-in. */
export function createStripeClient(opts: { secretKey: string; apiBase?: string; timeoutMs?: number }): Stripe {
  const config: Stripe.StripeConfig = { maxNetworkRetries: 0, timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  if (opts.apiBase) {
    const base = new URL(opts.apiBase);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`Stripe apiBase must be an http(s) URL, got protocol ${base.protocol}`);
    }
    // stripe-node builds request paths itself (/v1/...), so a base with a path prefix would be silently ignored.
    if (base.pathname !== '/' && base.pathname !== '') throw new Error('Stripe apiBase must not have a path');
    config.protocol = base.protocol === 'http:' ? 'http' : 'https';
    config.host = base.hostname;
    config.port = base.port || (base.protocol === 'http:' ? 80 : 443);
  }
  return new Stripe(opts.secretKey, config);
}

/**
 * The real intercom-client v7 (Fern-generated), without library retries (it retries 408/429/5xx twice by default).
 * `maxRetries` and `timeoutInSeconds` given here are the defaults of every request; a request may still override them
 * in its own request options, which nobody in memberops should do.
 */
export function createIntercomClient(opts: { token: string; baseUrl?: string; timeoutMs?: number }): IntercomClient {
  return new IntercomClient({
    token: opts.token,
    // `baseUrl` wins over `environment` (US by default; EU/AU hosts are in IntercomEnvironment).
    baseUrl: opts.baseUrl,
    version: INTERCOM_API_VERSION,
    maxRetries: 0,
    timeoutInSeconds: (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000,
  });
}

// Callers that build a client often classify its failures too.
export { classifyHttpFailure, type HttpFailure } from './http-failures';
