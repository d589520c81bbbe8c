import 'server-only';

/**
 * A Checkout link carrying the app's user id as `client_reference_id` (Payment Links accept it as a query parameter):
 * memberops ties the Stripe customer to this user, and `access(userId)` answers for it.
 */
export function checkoutUrl(userId: string): string | undefined {
  const link = process.env['STRIPE_PAYMENT_LINK_URL'];
  if (!link) return undefined;
  const url = new URL(link);
  url.searchParams.set('client_reference_id', userId);
  return url.href;
}
