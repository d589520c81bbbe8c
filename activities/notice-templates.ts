/** Member-facing wording for every notice memberops sends. Pure; one place to edit the text. */
import type { NoticeData, NoticeKind } from '../workflows/member-state';

export interface NoticeLinks {
  /** Stripe Billing Portal session, to update the card. */
  billingPortalUrl?: string | null;
}

export interface ComposedNotice {
  subject: string;
  body: string;
}

const CARD_REASONS = new Set([
  'expired_card',
  'card_declined',
  'insufficient_funds',
  'incorrect_cvc',
  'do_not_honor',
  'generic_decline',
  'lost_card',
  'stolen_card',
]);

function payLine(data: NoticeData, links: NoticeLinks): string {
  const lines: string[] = [];
  if (data.hostedInvoiceUrl) lines.push(`Pay the open invoice here (no login needed): ${data.hostedInvoiceUrl}`);
  if (links.billingPortalUrl) lines.push(`Update your card here: ${links.billingPortalUrl}`);
  return lines.join('\n');
}

function reasonLine(data: NoticeData): string {
  if (data.failureReason === 'authentication_required') {
    return 'Your bank asked you to confirm this payment (3-D Secure authentication).';
  }
  if (data.failureReason === 'expired_card') return 'The card on file has expired: please add a new card.';
  if (data.failureReason && CARD_REASONS.has(data.failureReason)) {
    return 'Your card was declined: please update your card or use another one.';
  }
  return 'We could not collect your latest membership payment.';
}

export function composeNotice(kind: NoticeKind, data: NoticeData, links: NoticeLinks = {}): ComposedNotice {
  const day = (isoTs?: string | null): string => (isoTs ? isoTs.slice(0, 10) : 'soon');
  switch (kind) {
    case 'payment_failed':
      return {
        subject: 'Your membership payment failed',
        body: [reasonLine(data), 'You keep access for now.', payLine(data, links)].filter(Boolean).join('\n\n'),
      };
    case 'payment_action_required':
      return {
        subject: 'Please confirm your membership payment',
        body: [reasonLine(data), payLine(data, links)].filter(Boolean).join('\n\n'),
      };
    case 'dunning_reminder':
      return {
        subject: 'Reminder: your membership payment is still open',
        body: [
          reasonLine(data),
          `Your membership will be canceled on ${day(data.cancelsAt)} unless the invoice is paid.`,
          payLine(data, links),
        ]
          .filter(Boolean)
          .join('\n\n'),
      };
    case 'payment_recovered':
      return { subject: 'Payment received, thank you', body: 'Your payment went through and your membership is active again.' };
    case 'canceled':
      return {
        subject: 'Your membership has ended',
        body: 'Your membership is canceled and access has ended. You can rejoin at any time.',
      };
    case 'trial_will_end':
      return {
        subject: 'Your trial ends soon',
        body: `Your trial ends on ${day(data.trialEnd)}. Make sure a card is on file to keep your access.${
          links.billingPortalUrl ? `\n\nManage your billing: ${links.billingPortalUrl}` : ''
        }`,
      };
  }
}

/** Notices that include a card-update link. */
export const NEEDS_PORTAL_LINK: ReadonlySet<NoticeKind> = new Set(['payment_failed', 'payment_action_required', 'dunning_reminder', 'trial_will_end']);
