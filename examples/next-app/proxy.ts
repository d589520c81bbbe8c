/**
 * Next.js 16 Proxy (formerly middleware): the member area is open only to users memberops allows, asked server side on
 * every request. Denied users go to the billing page; memberops unreachable fails closed.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { memberops } from './lib/memberops';

export const config = { matcher: ['/members/:path*'] };

export async function proxy(req: NextRequest): Promise<NextResponse> {
  const userId = req.cookies.get('uid')?.value;
  if (!userId) return NextResponse.redirect(new URL('/sign-in', req.url));
  try {
    const access = await memberops().access(userId);
    if (access.allowed) return NextResponse.next();
    // canceled, refunded, past_due, or none (never paid): the billing page asks again and explains `reason`.
    return NextResponse.redirect(new URL(`/billing?status=${encodeURIComponent(access.status)}`, req.url));
  } catch {
    return NextResponse.redirect(new URL('/billing?status=unavailable', req.url));
  }
}
