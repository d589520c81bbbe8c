'use server';
/** Server actions: everything that needs the API key or the session cookie happens here, never in the browser. */
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { memberops } from '@/lib/memberops';
import { currentUserId, USER_COOKIE } from '@/lib/session';

/** The sign-in stub: any user id will do (a real app verifies a password, a magic link, an OAuth provider…). */
export async function signIn(form: FormData): Promise<void> {
  const userId = String(form.get('userId') ?? '').trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,254}$/.test(userId)) redirect('/sign-in?error=invalid');
  (await cookies()).set(USER_COOKIE, userId, { httpOnly: true, sameSite: 'lax', path: '/' });
  // Straight to where the user belongs: an action's redirect that the proxy redirects again would keep the first URL.
  const access = await memberops()
    .access(userId)
    .catch(() => undefined);
  redirect(access?.allowed ? '/members' : `/billing?status=${encodeURIComponent(access?.status ?? 'unavailable')}`);
}

export async function signOut(): Promise<void> {
  (await cookies()).delete(USER_COOKIE);
  redirect('/');
}

/** The Billing Portal session is created on click, server side, and the member sent straight there (it expires). */
export async function openBillingPortal(): Promise<void> {
  const userId = await currentUserId();
  if (!userId) redirect('/sign-in');
  // APP_URL unset: Stripe sends the member back to memberops' BILLING_PORTAL_RETURN_URL.
  const appUrl = process.env['APP_URL'];
  let url: string;
  try {
    ({ url } = await memberops().billingPortal(userId, appUrl ? { returnUrl: new URL('/billing', appUrl).href } : {}));
  } catch {
    redirect('/billing?portal=unavailable'); // memberops or Stripe unreachable: say so rather than an error page
  }
  redirect(url);
}

export interface SupportFormState {
  sent?: { requestId: string; deliveredVia: string };
  error?: string;
}

/** The support form: posted through the client with the signed-in user's id, never an id from the form. */
export async function sendSupportRequest(_prev: SupportFormState, form: FormData): Promise<SupportFormState> {
  const userId = await currentUserId();
  if (!userId) redirect('/sign-in');
  const body = String(form.get('body') ?? '').trim();
  if (!body) return { error: 'Please write a message.' };
  try {
    const answer = await memberops().supportRequest({ memberId: userId, subject: String(form.get('subject') ?? ''), body });
    return { sent: { requestId: answer.requestId, deliveredVia: answer.deliveredVia } };
  } catch {
    return { error: 'Support is unreachable right now; please try again in a minute.' };
  }
}
