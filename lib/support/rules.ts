/**
 * The support rules: what words in a member's message point to which intent, and when we are too unsure to
 * answer automatically. Pure data, meant to be read and edited by the founder; the matching engine lives in
 * `classifier.ts`.
 *
 * Where things are
 * - `phrases/<intent>.ts`: the words for each intent, grouped by idea, with the German, French and Spanish
 *   words at the end. `phrases/other.ts` holds what a person must answer (legal, ideas, partnerships, events,
 *   content), so that those messages do not borrow a named intent's reply.
 * - `spellings.ts`: abbreviations and foreign nouns read as one English word, and the greetings we ignore.
 * - This file: rules that use what we know about the member, and the thresholds.
 *
 * How to write a phrase
 * - Lowercase, no accents, no punctuation: write `cant` for "can't", `resilier` for "résilier". Messages
 *   are normalised the same way before matching, so "Can't LOG-IN!!" is read as `cant login`.
 * - `word*` matches any word that starts with `word`: `refund*` matches refund, refunds, refunded.
 * - The words of a phrase must appear in this order, in the same sentence, with at most `MAX_GAP` other
 *   words between them: `update card` matches "update my credit card".
 * - One-letter typos (a letter missing, added or two letters swapped) are tolerated in words of five
 *   letters or more: `receipt` also matches "reciept", `cancel*` matches "cancle". Shorter words must be
 *   exact, so list the variants you care about (`card*`, `pwd`).
 * - Weights: 1 = a hint, 2 = good evidence, 3 = on its own enough to decide, 5 = decides even against a
 *   strong phrase of another intent (used under `other` for things a human must always see).
 * - A message scores the sum of the weights of every phrase it contains (each phrase counts once), minus
 *   its `not` phrases. The highest score wins; see the thresholds at the bottom for when we are unsure.
 * - Prefer a whole idea over one sentence: when a member says "turn off renewal", also add "switch off" and
 *   "disable", and the German, French and Spanish words for it.
 */
import type { MembershipStatus } from '../../workflows/messages';
import type { SupportIntent } from '../../workflows/support-messages';
import { ACCOUNT_ACCESS_RULES } from './phrases/account-access';
import { BILLING_RULES } from './phrases/billing';
import { CANCELLATION_RULES } from './phrases/cancellation';
import { INVOICE_RECEIPT_RULES } from './phrases/invoice-receipt';
import { MEMBERSHIP_STATUS_RULES } from './phrases/membership-status';
import { OTHER_RULES } from './phrases/other';
import { LOCKED_OUT_PHRASES, PAID_CLAIM_PHRASES } from './phrases/complaint';

export interface IntentRules {
  /** Phrase → weight. */
  phrases: Readonly<Record<string, number>>;
  /** Phrases that argue against this intent: their weight is subtracted. */
  not?: Readonly<Record<string, number>>;
}

export const INTENT_RULES: Readonly<Record<SupportIntent, IntentRules>> = {
  invoice_receipt: INVOICE_RECEIPT_RULES,
  billing: BILLING_RULES,
  account_access: ACCOUNT_ACCESS_RULES,
  membership_status: MEMBERSHIP_STATUS_RULES,
  cancellation: CANCELLATION_RULES,
  other: OTHER_RULES,
};

export interface ContextRule {
  /** Shown in the admin view as `context:<id>`. */
  id: string;
  intent: SupportIntent;
  weight: number;
  /** Applies only to a member in one of these statuses. */
  statuses?: readonly MembershipStatus[];
  /** Applies only when the member's access flag has this value. */
  allowed?: boolean;
  /** Applies only when the message also contains one of these phrases. */
  phrases?: readonly string[];
  /** And, when set, also one of these (a second idea that must be there too). */
  andPhrases?: readonly string[];
  /** Applies only when the intent already scored from its own phrases (a boost, never a trigger). */
  onlyIfIntentMatched?: boolean;
}

/** Phrases that say "I cannot get to the content", used by the context rules below. */
const NO_ACCESS = ['no access', 'access', 'locked', 'dont see', 'cant see', 'revoked', 'cant access', 'no veo'];

/** Rules that use what we know about the member, not only the words. */
export const CONTEXT_RULES: readonly ContextRule[] = [
  {
    // A member in dunning who mentions paying at all is almost always asking about the failed payment.
    id: 'dunning-boosts-billing',
    intent: 'billing',
    weight: 2,
    statuses: ['past_due', 'grace_period'],
    onlyIfIntentMatched: true,
  },
  {
    // No access and the membership says so: the answer is their status, not a login fix.
    id: 'no-access-without-membership',
    intent: 'membership_status',
    weight: 2,
    allowed: false,
    phrases: NO_ACCESS,
  },
  {
    // Access is granted but they cannot get in: a login problem.
    id: 'cant-get-in-with-membership',
    intent: 'account_access',
    weight: 2,
    allowed: true,
    phrases: ['cant access', 'cant get in', 'cant get into', 'no longer get in', 'access denied'],
  },
  {
    // "I paid but I'm still locked out" from a member with access: the payment worked, the sign-in did not.
    // (Without access, the member and our records disagree: `classifier.ts` hands that to a person.)
    id: 'paid-but-locked-out',
    intent: 'account_access',
    weight: 3,
    allowed: true,
    phrases: PAID_CLAIM_PHRASES,
    andPhrases: LOCKED_OUT_PHRASES,
  },
];

/** Up to this many other words may sit between two words of a phrase. */
export const MAX_GAP = 2;
/** Below this score the rules have not really recognised anything: the message goes to a human as `other`. */
export const MIN_SCORE = 2;
/**
 * An automatic answer needs at least one rule of this weight for the winning intent: a phrase that is good
 * evidence, or a context rule (what we know about the member). Hints (weight 1) can tip a decision between
 * intents, but a message made only of hints ("access", "card", "member") is too vague to answer without a
 * person.
 */
export const AUTO_REPLY_MIN_RULE_WEIGHT = 2;
/**
 * When the runner-up scores at least this share of the winner, the two are too close to call: human. At 0.6 a
 * decisive phrase (3) against good evidence for another intent (2) is already too close: a wrong automatic
 * answer costs more than a founder reading one more message.
 */
export const CLOSE_RATIO = 0.6;
/**
 * A runner-up named intent with a phrase of at least this weight is a second question in the same message
 * ("how do I cancel, and can I get my last invoice?"): one automatic reply would answer half, so a person does.
 */
export const SECOND_QUESTION_RULE_WEIGHT = 3;
/** A score at which we are fully sure of the intent (used for the reported confidence). */
export const CONFIDENT_SCORE = 5;
/** How much the model's preference for another intent takes off the rules' confidence (0: ignored, 1: veto). */
export const MODEL_DISSENT_WEIGHT = 0.4;
/**
 * When the model prefers another intent by at least this much probability over the rules' intent, the two
 * readers disagree: a person answers (unsure → person), whatever the rules' confidence. On the cross-validation
 * it costs a few right answers and blocks no wrong one (the rules were written on those messages); it is there
 * for rules that misfire on phrasings they were not written for.
 */
export const MODEL_VETO_MARGIN = 0.5;
/** When no rule recognised the message, the model's probability counts for this much: it has no rule to back it. */
export const MODEL_ONLY_FACTOR = 0.85;
/**
 * When the rules cannot choose between two intents, the model may choose between those two only, when it is this
 * sure of one of them (tempered probability); its probability times MODEL_ONLY_FACTOR is the confidence. Chosen on
 * the 5-fold cross-validation of the training corpus (no wrong automatic answer added), never on a held-out set.
 */
export const MODEL_TIE_BREAK_MIN = 0.9;
/**
 * Default of `SUPPORT_AUTO_REPLY_MIN_CONFIDENCE`: below this combined confidence a person answers. Chosen on the
 * cross-validated calibration table of the training corpus (`tools/support-report.ts`), never on a held-out set.
 */
export const DEFAULT_AUTO_REPLY_MIN_CONFIDENCE = 0.5;
