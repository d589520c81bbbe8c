import type { ReactNode } from 'react';
import Link from 'next/link';
import { currentUserId } from '@/lib/session';
import { SignOutButton } from './sign-out-button';
import './styles.css';

export const metadata = { title: 'Community (memberops example)' };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const userId = await currentUserId();
  return (
    <html lang="en">
      <body>
        <header>
          <Link href="/">Community</Link>
          <nav>
            <Link href="/members">Member area</Link>
            <Link href="/billing">Billing</Link>
            {userId ? (
              <>
                <span data-testid="signed-in-as">{userId}</span>
                <SignOutButton />
              </>
            ) : (
              <Link href="/sign-in">Sign in</Link>
            )}
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
