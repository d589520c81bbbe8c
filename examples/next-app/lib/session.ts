/**
 * The sign-in stub: the app's user id in an HttpOnly cookie. A real app has its own auth; what matters is that the id
 * memberops is asked about is the one Checkout carried as `client_reference_id`.
 */
import 'server-only';
import { cookies } from 'next/headers';

export const USER_COOKIE = 'uid';

export async function currentUserId(): Promise<string | undefined> {
  return (await cookies()).get(USER_COOKIE)?.value || undefined;
}
