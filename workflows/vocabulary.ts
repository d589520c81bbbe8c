/**
 * The words the workflows, the API and the app's client share: membership statuses, support intents and routes.
 * No imports at all, so the typed client (`client/`) can use them without the workflow SDK.
 */

export const MEMBERSHIP_STATUSES = ['none', 'trialing', 'active', 'grace_period', 'past_due', 'canceled', 'refunded'] as const;
/** Canonical membership status. */
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

export const SUPPORT_INTENTS = [
  'invoice_receipt',
  'billing',
  'account_access',
  'membership_status',
  'cancellation',
  'other',
] as const;
/** What a support message is about. `other` is never answered automatically. */
export type SupportIntent = (typeof SUPPORT_INTENTS)[number];

export const SUPPORT_ROUTES = ['auto_reply', 'billing_flow', 'human'] as const;
/** Who answers: a template reply, the dunning (card update) flow, or a person. */
export type SupportRoute = (typeof SUPPORT_ROUTES)[number];
