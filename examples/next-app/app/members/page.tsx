import Link from 'next/link';
import { redirect } from 'next/navigation';
import { memberops } from '@/lib/memberops';
import { currentUserId } from '@/lib/session';

export const dynamic = 'force-dynamic';

export default async function MemberArea() {
  const userId = await currentUserId();
  if (!userId) redirect('/sign-in');
  // proxy.ts already asked; asking again here keeps the page closed should the proxy's matcher ever miss it.
  const access = await memberops().access(userId);
  if (!access.allowed) redirect(`/billing?status=${encodeURIComponent(access.status)}`);
  return (
    <>
      <h1 data-testid="member-area">Member area</h1>
      <p className="ok">
        Welcome! Your membership is <strong data-testid="member-status">{access.status}</strong>.
      </p>
      <ul>
        <li>
          <Link href="/members/support">Ask for help</Link>
        </li>
        <li>
          <Link href="/billing">Your subscription</Link>
        </li>
      </ul>
    </>
  );
}
