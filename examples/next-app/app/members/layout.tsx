import type { ReactNode } from 'react';
import { memberops } from '@/lib/memberops';
import { currentUserId } from '@/lib/session';
import { Messenger } from './messenger';

export const dynamic = 'force-dynamic';

/** Only members get here (proxy.ts); the Messenger boots with the token memberops signed for this member. */
export default async function MembersLayout({ children }: { children: ReactNode }) {
  const userId = await currentUserId();
  const appId = process.env.NEXT_PUBLIC_INTERCOM_APP_ID;
  // The Messenger is a convenience: without it (memberops not configured for it, a hiccup) the page still renders.
  const identity = userId && appId ? await memberops().messengerIdentity(userId).catch(() => undefined) : undefined;
  return (
    <>
      {children}
      {identity && appId && <Messenger appId={appId} token={identity.token} />}
    </>
  );
}
