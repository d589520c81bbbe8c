import Link from 'next/link';
import { redirect } from 'next/navigation';
import { openBillingPortal } from '../actions';
import { checkoutUrl } from '@/lib/checkout';
import { memberops } from '@/lib/memberops';
import { currentUserId } from '@/lib/session';

export const dynamic = 'force-dynamic';

/**
 * Why the member cannot get in, in memberops' words (`reason`), and what to do. The `?status=` of the redirect is never
 * trusted: the page asks memberops itself, for the canonical state.
 */
export default async function Billing({ searchParams }: { searchParams: Promise<{ portal?: string }> }) {
  const { portal } = await searchParams;
  const userId = await currentUserId();
  if (!userId) redirect('/sign-in');
  const access = await memberops()
    .access(userId, { consistency: 'strong' })
    .catch(() => undefined);
  if (!access) {
    return (
      <>
        <h1>Billing</h1>
        <p className="notice" data-testid="billing-unavailable">
          We cannot check your membership right now. Please try again in a minute.
        </p>
      </>
    );
  }
  const checkout = checkoutUrl(userId);
  return (
    <>
      <h1>Billing</h1>
      {access.allowed ? (
        <p className="ok">
          Your membership is <strong data-testid="billing-status">{access.status}</strong>.{' '}
          <Link href="/members">Go to the member area</Link>.
        </p>
      ) : (
        <div className="notice" data-testid="blocked">
          <p>
            The member area is closed to you: your membership is <strong data-testid="billing-status">{access.status}</strong>.
          </p>
          <p data-testid="billing-reason">{access.reason}</p>
        </div>
      )}
      {portal === 'unavailable' && (
        <p className="notice" data-testid="portal-unavailable">
          Stripe&apos;s billing portal cannot be opened right now. Please try again in a minute.
        </p>
      )}
      {access.status !== 'none' && (
        <form action={openBillingPortal}>
          <button type="submit" data-testid="billing-portal">
            Manage your subscription (Stripe)
          </button>
        </form>
      )}
      {!access.allowed && checkout && (
        <p>
          <a className="button" data-testid="checkout-link" href={checkout}>
            {access.status === 'none' ? 'Become a member' : 'Subscribe again'}
          </a>
        </p>
      )}
    </>
  );
}
