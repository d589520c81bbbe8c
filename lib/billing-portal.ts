/** The one place a Stripe Billing Portal session is created (member notices, support replies). */
import type Stripe from 'stripe';

export interface PortalSessionRequest {
  customer: string;
  /** BILLING_PORTAL_RETURN_URL; unset: the portal's default return page. */
  returnUrl?: string;
  /** Stable per business fact (notice key, support request), so a retry reuses the session instead of a second one. */
  idempotencyKey: string;
  /** Per-request timeout, when a caller is waiting (support intake); the client's default otherwise. */
  timeoutMs?: number;
}

/** The session's URL; Stripe failures are thrown as the client raised them (callers classify them). */
export async function createBillingPortalUrl(stripe: Stripe, req: PortalSessionRequest): Promise<string> {
  const session = await stripe.billingPortal.sessions.create(
    { customer: req.customer, ...(req.returnUrl ? { return_url: req.returnUrl } : {}) },
    { idempotencyKey: req.idempotencyKey, ...(req.timeoutMs !== undefined ? { timeout: req.timeoutMs } : {}) },
  );
  return session.url;
}
