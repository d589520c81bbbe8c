/**
 * Automatic support replies, one per intent that may be answered without a person. Edit the wording freely.
 *
 * `{{name}}` is replaced by a value the caller passes; if that value is missing or empty, `renderReply`
 * throws `MissingPlaceholderError` and the caller hands the conversation to a human instead of sending a
 * half-filled reply. `{{name|fallback}}` is optional and uses the fallback text when the value is missing.
 * Every placeholder must be one of `PLACEHOLDERS`.
 */
import type { MembershipStatus } from '../../workflows/messages';
import type { SupportIntent } from '../../workflows/support-messages';

export const PLACEHOLDERS = [
  'firstName',
  'hostedInvoiceUrl',
  'billingPortalUrl',
  'status',
  'accessSentence',
  'renewalSentence',
  'loginUrl',
  'cancelPath',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** The values a reply may use; the caller fills what it knows about the member. */
export type ReplyContext = Partial<Record<Placeholder, string | null>>;

/** `other` has no template on purpose: it is always answered by a person. */
export type AutoRepliedIntent = Exclude<SupportIntent, 'other'>;

export const REPLY_TEMPLATES: Readonly<Record<AutoRepliedIntent, string>> = {
  invoice_receipt: `Hi {{firstName|there}},

Here is your latest invoice, with its receipt and a PDF download: {{hostedInvoiceUrl}}

All your earlier invoices and receipts are in the billing portal, where you can also add a company name, address or VAT number to your invoices: {{billingPortalUrl}}

If something on an invoice needs changing, reply to this email and a person will take care of it.`,

  billing: `Hi {{firstName|there}},

You can update your card or payment method, and see every payment we have taken, in the billing portal: {{billingPortalUrl}}

If you were charged twice or your question is about a refund, reply to this email and a person will look into it.`,

  account_access: `Hi {{firstName|there}},

You can sign in here: {{loginUrl}}
Enter the email address you joined with and we will send you a fresh sign-in link. It only works for a short time, so use it straight away, and check your spam folder if it has not arrived after a few minutes.

Your membership is {{status}}. {{accessSentence}}

Still stuck, or waiting for an invite to the community space? Reply to this email and a person will help you.`,

  membership_status: `Hi {{firstName|there}},

Your membership is {{status}}. {{accessSentence}} {{renewalSentence|}}

If that does not look right, reply to this email and a person will check it for you.`,

  cancellation: `Hi {{firstName|there}},

You can cancel or pause your membership yourself at any time: {{cancelPath}}
You keep access until the end of the period you have already paid for.

If there is something we could have done better, reply to this email: we read every answer.`,
};

const PLACEHOLDER_PATTERN = /\{\{\s*([A-Za-z]+)\s*(?:\|([^}]*))?\}\}/g;

/** Base class, so a caller can fall back to a human on any rendering failure with one `instanceof`. */
export class ReplyTemplateError extends Error {
  constructor(
    message: string,
    readonly intent: SupportIntent,
  ) {
    super(message);
    this.name = 'ReplyTemplateError';
  }
}

export class MissingPlaceholderError extends ReplyTemplateError {
  constructor(
    intent: SupportIntent,
    readonly missing: readonly string[],
  ) {
    super(`Cannot render the ${intent} reply: no value for ${missing.map((m) => `{{${m}}}`).join(', ')}`, intent);
    this.name = 'MissingPlaceholderError';
  }
}

function templateFor(intent: SupportIntent): string {
  if (intent === 'other') {
    throw new ReplyTemplateError('There is no reply template for other: it is always answered by a person', intent);
  }
  return REPLY_TEMPLATES[intent];
}

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

/** The placeholders a reply cannot be sent without, so the caller knows what to look up first. */
export function requiredPlaceholders(intent: SupportIntent): string[] {
  const names = [...templateFor(intent).matchAll(PLACEHOLDER_PATTERN)]
    .filter(([, , fallback]) => fallback === undefined)
    .map(([, name]) => name);
  return [...new Set(names)];
}

/** The reply for an intent with its placeholders filled; throws `MissingPlaceholderError` rather than send a gap. */
export function renderReply(intent: SupportIntent, context: ReplyContext): string {
  const template = templateFor(intent);
  const missing = new Set<string>();
  const text = template.replace(PLACEHOLDER_PATTERN, (_match, name: string, fallback: string | undefined) => {
    const value = isPlaceholder(name) ? context[name] : undefined;
    if (value !== undefined && value !== null && value.trim() !== '') return value;
    if (fallback !== undefined) return fallback;
    missing.add(name);
    return '';
  });
  if (missing.size > 0) throw new MissingPlaceholderError(intent, [...missing]);
  // An optional placeholder left empty at the end of a line leaves no trailing space behind.
  return text.replace(/[ \t]+$/gm, '');
}

const STATUS_WORDING: Readonly<Record<MembershipStatus, string>> = {
  none: 'not active',
  trialing: 'in its free trial',
  active: 'active',
  grace_period: 'active, but the last payment did not go through',
  past_due: 'on hold because a payment did not go through',
  canceled: 'canceled',
  refunded: 'ended with a refund',
};

const NO_ACCESS_WORDING: Readonly<Record<MembershipStatus, string>> = {
  none: 'We could not find a membership for this email address; if you paid with another address, reply with it.',
  trialing: 'Your trial does not give access at the moment; reply to this email and a person will check why.',
  active: 'Your access is not switched on yet; reply to this email and a person will check why.',
  grace_period: 'Access is paused until the payment goes through.',
  past_due: 'Access comes back as soon as the payment goes through; you can update your card in the billing portal.',
  canceled: 'Access ended with your last paid period. You are welcome back any time.',
  refunded: 'Access ended when the payment was refunded.',
};

/** What the membership reply needs to know about a member; the dates are the ones Stripe last sent. */
export interface MembershipFacts {
  status: MembershipStatus;
  allowed: boolean;
  /** When the paid period ends (the next renewal unless it is set to cancel then). */
  currentPeriodEnd?: Date | null;
  trialEnd?: Date | null;
  /** Set to cancel at the end of the paid period: it ends then instead of renewing. */
  cancelAtPeriodEnd?: boolean;
}

/** "3 January 2027": the day in UTC, the calendar Stripe's dates are given in. */
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

/**
 * The `{{renewalSentence}}`: when a trial ends, when the membership renews, or when it ends instead. Empty when
 * there is no date to give (a payment that failed, a membership that has ended), and then the reply says nothing.
 */
function renewalSentence(member: MembershipFacts): string {
  const periodEnd = member.currentPeriodEnd ?? null;
  if (member.status === 'trialing' && member.trialEnd) {
    return member.cancelAtPeriodEnd
      ? `Your free trial ends on ${DAY.format(member.trialEnd)} and is set to cancel then, so nothing will be charged.`
      : `Your free trial ends on ${DAY.format(member.trialEnd)}; unless you cancel before then, it turns into a paid membership that day.`;
  }
  if (member.status === 'active' && periodEnd) {
    return member.cancelAtPeriodEnd
      ? `It is set to end on ${DAY.format(periodEnd)} and will not renew; you keep access until then.`
      : `It renews automatically on ${DAY.format(periodEnd)}.`;
  }
  return '';
}

/** The `{{status}}`, `{{accessSentence}}` and `{{renewalSentence}}` values for the membership_status and account_access replies. */
export function describeMembership(member: MembershipFacts): {
  status: string;
  accessSentence: string;
  renewalSentence: string;
} {
  return {
    status: STATUS_WORDING[member.status],
    accessSentence: member.allowed ? 'You have full access to the community.' : NO_ACCESS_WORDING[member.status],
    renewalSentence: renewalSentence(member),
  };
}
