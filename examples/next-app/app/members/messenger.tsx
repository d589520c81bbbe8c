'use client';
import Intercom from '@intercom/messenger-js-sdk';
import { useEffect } from 'react';

/**
 * Boots the Intercom Messenger for a signed-in member with the identity token memberops signed (identity
 * verification): no email, name or user id of the browser's choosing. Sign-out calls `shutdown()`.
 */
export function Messenger({ appId, token }: { appId: string; token: string }) {
  useEffect(() => {
    Intercom({ app_id: appId, intercom_user_jwt: token });
  }, [appId, token]);
  return null;
}
