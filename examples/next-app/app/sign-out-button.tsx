'use client';
import { shutdown } from '@intercom/messenger-js-sdk';
import { signOut } from './actions';

/** Ends the Messenger's session first, so the next person on this browser does not see this member's conversations. */
export function SignOutButton() {
  return (
    <form
      action={async () => {
        if (typeof window.Intercom === 'function') shutdown();
        await signOut();
      }}
    >
      <button type="submit">Sign out</button>
    </form>
  );
}
