import Link from 'next/link';
import { checkoutUrl } from '@/lib/checkout';
import { currentUserId } from '@/lib/session';

export const dynamic = 'force-dynamic';

export default async function Home() {
  const userId = await currentUserId();
  const checkout = userId ? checkoutUrl(userId) : undefined;
  return (
    <>
      <h1>A community for paying members</h1>
      {!userId && (
        <p>
          <Link href="/sign-in">Sign in</Link> to join or to reach the member area.
        </p>
      )}
      {checkout && (
        <p>
          <a className="button" data-testid="checkout-link" href={checkout}>
            Become a member
          </a>
        </p>
      )}
      {userId && (
        <p>
          <Link href="/members">Go to the member area</Link>
        </p>
      )}
    </>
  );
}
