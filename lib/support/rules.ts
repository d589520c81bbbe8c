/**
 * The support rule table: what words in a member's message point to which intent. Pure data, meant to be
 * read and edited by the founder; the matching engine lives in `classifier.ts`.
 *
 * How to write a phrase
 * - Lowercase, no accents, no punctuation: write `cant` for "can't", `resilier` for "résilier". Messages
 *   are normalised the same way before matching, so "Can't LOG-IN!!" is read as `cant log in`.
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
 */
import type { MembershipStatus } from '../../workflows/messages';

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

export interface IntentRules {
  /** Phrase → weight. */
  phrases: Readonly<Record<string, number>>;
  /** Phrases that argue against this intent: their weight is subtracted. */
  not?: Readonly<Record<string, number>>;
}

export const INTENT_RULES: Readonly<Record<SupportIntent, IntentRules>> = {
  /** A copy of an invoice or receipt, or a change to what is printed on one. */
  invoice_receipt: {
    phrases: {
      'invoice*': 3,
      'receipt*': 3,
      'billing history': 3,
      'proof of payment': 3,
      'payment confirmation': 2,
      'order confirmation': 2,
      'payment history': 2,
      bill: 2,
      'copy of': 1,
      'billing address': 2,
      'business address': 1,
      'company address': 1,
      gst: 1,
      'bookkeep*': 1,
      // Other languages: factura/recibo (es), fattura/ricevuta (it), fatura/nota fiscal (pt), facture (fr),
      // rechnung/quittung (de). Not the French "reçu": it is also "received".
      'factura*': 3,
      'fattura*': 3,
      'fatura*': 3,
      'ricevuta*': 3,
      'nota fiscal': 3,
      'recibo*': 3,
      'facture*': 3,
      'rechnung*': 3,
      'quittung*': 3,
      vat: 1,
      tva: 1,
      tax: 1,
      'company name': 1,
      'expense*': 1,
      accountant: 1,
      accounting: 1,
      'reimburs*': 1,
      pdf: 1,
    },
    not: {
      // Freelancers ask us about invoicing their own clients; that is a content question, not a copy of ours.
      'invoice template*': 3,
      'invoicing tool*': 3,
    },
  },

  /** Paying: declined or failed cards, changing the card, unexpected or double charges, refunds. */
  billing: {
    phrases: {
      'card* declined': 3,
      declined: 2,
      'payment* fail*': 3,
      'update card*': 3,
      'update payment*': 3,
      'change card*': 3,
      'new card*': 2,
      'card* changed': 2,
      'old card*': 2,
      'credit card*': 2,
      'card* expir*': 2,
      'payment method*': 3,
      'payment details': 2,
      'charged twice': 3,
      'double charge*': 3,
      'two charges': 3,
      'charged me twice': 3,
      'why was i charged': 3,
      'charge*': 1,
      'overcharg*': 3,
      'took money': 2,
      'taken money': 2,
      twice: 1,
      'insufficient funds': 3,
      'didnt go through': 2,
      'different card*': 2,
      'another card*': 2,
      'pay with': 2,
      'apple pay': 2,
      'google pay': 2,
      sepa: 2,
      iban: 2,
      price: 1,
      currency: 1,
      'refund*': 3,
      'money back': 3,
      paypal: 2,
      'billing email': 2,
      'annual billing': 2,
      'monthly to annual': 2,
      billing: 1,
      billed: 1,
      statement: 1,
      bank: 1,
      'card*': 1,
      'payment*': 1,
      // Other languages.
      'carte refusee': 3,
      paiement: 1,
      zahlung: 1,
      fehlgeschlagen: 2,
      kreditkarte: 2,
      'cobr*': 2,
      'dos veces': 2,
      tarjeta: 2,
      'rembours*': 3,
      'reembolso*': 3,
      'rimborso*': 3,
      'ruckerstattung*': 3,
      'erstattung*': 3,
    },
    not: {
      // "before I get charged" is someone planning to leave, not a payment problem.
      'before charged': 2,
    },
  },

  /** Getting in: login, password, magic link, invites to the community space. */
  account_access: {
    phrases: {
      login: 2,
      signin: 2,
      'cant login': 2,
      'logged out': 2,
      'password*': 3,
      passwort: 3,
      'magic link': 3,
      'login link': 2,
      'login email': 2,
      'login code': 2,
      'signin code': 2,
      'one time code': 2,
      otp: 2,
      'reset link': 2,
      'reset email': 2,
      'link to join': 2,
      'join link': 2,
      'account locked': 3,
      username: 2,
      'authenticat*': 2,
      'invit*': 3,
      'locked out': 3,
      'verify email': 2,
      'verification code': 2,
      'code never': 2,
      'account not found': 2,
      'not recogni*': 2,
      'get into': 1,
      'get into my account': 2,
      'get in': 1,
      'change email': 1,
      'personal email': 1,
      'work email': 1,
      'with google': 1,
      '2fa': 3,
      'two factor': 3,
      // Other languages.
      'lien magique': 3,
      'me connecter': 3,
      connexion: 2,
      einloggen: 3,
      anmelden: 2,
      contrasena: 3,
      'mot de passe': 3,
      'no puedo entrar': 3,
      'nao consigo entrar': 3,
      'non riesco ad accedere': 3,
      'iniciar sesion': 3,
    },
  },

  /** Whether someone is a member, what their plan includes, why access is missing. */
  membership_status: {
    phrases: {
      'am i member': 3,
      'still member': 3,
      'still a member': 3,
      'non member': 3,
      'membership status': 3,
      'membership active': 3,
      'membership valid': 3,
      'membership expire*': 3,
      'subscription active': 3,
      'subscription still': 2,
      'still subscribed': 3,
      'am i subscribed': 3,
      'still running': 2,
      'what plan': 2,
      'which plan': 2,
      'membership include*': 2,
      'plan include*': 2,
      'renewal date': 3,
      'when renew*': 2,
      expiry: 2,
      paywall: 2,
      'still locked': 2,
      'subscription ended': 2,
      'account active': 2,
      'still active': 2,
      'still valid': 2,
      'still paying': 2,
      'shows me as': 2,
      'why does it say': 2,
      'dashboard says': 2,
      inactive: 2,
      'no access': 2,
      'dont have access': 2,
      'missing access': 2,
      'lost access': 3,
      'access revoked': 3,
      'access got revoked': 3,
      'keep access': 2,
      'trial end*': 2,
      'upgraded*': 2,
      tier: 1,
      'lifetime deal': 2,
      'asking to subscribe': 2,
      'asking me to subscribe': 2,
      renewed: 2,
      'only see': 1,
      'dont see': 1,
      'cant see': 1,
      locked: 1,
      access: 1,
      // Other languages. Single words stay at 1: `membre` is one typo away from the English "member".
      miembro: 1,
      'siendo miembro': 2,
      'no veo': 1,
      membre: 1,
      'mitglied*': 1,
    },
  },

  /** Leaving or taking a break: cancel, pause, stop renewing. */
  cancellation: {
    phrases: {
      'cancel*': 3,
      'cancel button': 1,
      'pause*': 3,
      freeze: 3,
      'unsubscribe*': 3,
      'stop auto renew*': 3,
      'stop renew*': 3,
      'auto renew*': 1,
      'dont renew': 3,
      'not renew': 3,
      'end subscription': 3,
      'end my subscription': 3,
      'end membership': 3,
      'end my membership': 3,
      'terminate*': 3,
      'take a break': 3,
      'stop charging': 3,
      'stop billing': 3,
      'opt out': 2,
      'no longer want': 2,
      'delete my account': 2,
      quit: 2,
      'stop paying': 3,
      'not billed again': 2,
      'downgrade*': 2,
      'leave community': 2,
      'leave the community': 2,
      'step away': 2,
      'close my account': 2,
      // Other languages.
      resilier: 3,
      'kundig*': 3,
      'cancelar*': 3,
      'darme de baja': 3,
      'annul*': 3,
      disdire: 3,
      disdetta: 3,
    },
    not: {
      // Talking about a cancellation that already happened is a billing or status question.
      'didnt cancel*': 3,
      'never cancel*': 3,
      'already cancel*': 3,
      'even though cancel*': 3,
      'even though i cancel*': 3,
      // Our newsletter and notification emails are not the paid membership.
      'unsubscribe* newsletter': 3,
      'unsubscribe* email*': 3,
    },
  },

  /**
   * Things a human must answer: feature requests, partnerships, press, events, content and bug reports.
   * These compete with the intents above so that "the login page has a typo" goes to a person.
   */
  other: {
    phrases: {
      // Always a human, whatever else the message says.
      'security*': 5,
      'vulnerab*': 5,
      gdpr: 5,
      'personal data': 5,
      'delete my data': 5,
      'chargeback*': 5,
      dispute: 5,
      lawyer: 5,
      'legal action': 5,
      fraud: 5,
      hacked: 5,
      // Ideas and feature requests.
      'feature request*': 3,
      'feature*': 2,
      'suggestion*': 2,
      'idea*': 2,
      'could you add': 2,
      'would love to see': 2,
      'dark mode': 3,
      // Partnerships, press, speaking, sales.
      'partner*': 3,
      'sponsor*': 3,
      'collab*': 3,
      'affiliate*': 3,
      'referral*': 3,
      podcast: 3,
      guest: 2,
      speaker: 3,
      conference: 2,
      interview: 2,
      article: 2,
      'quote you': 2,
      hiring: 3,
      agency: 2,
      seats: 2,
      'team plan*': 2,
      gift: 3,
      student: 2,
      discount: 1,
      // Events.
      'meetup*': 3,
      'workshop*': 2,
      'webinar*': 3,
      event: 2,
      'retreat*': 3,
      ama: 2,
      'q and a': 2,
      cohort: 2,
      'recording*': 2,
      slides: 2,
      folien: 2,
      // Members asking for advice about their own business (a community of founders talks about Stripe, refunds
      // and cancellations all day), not about their membership with us.
      'my customers': 3,
      'my own customers': 3,
      'my clients': 2,
      'my users': 2,
      'my own': 2,
      tips: 2,
      advice: 2,
      giveaway: 3,
      'job offer*': 2,
      'job post*': 2,
      'certificat*': 2,
      summit: 2,
      newsletter: 2,
      // Content and the product itself.
      'typo*': 3,
      'bug*': 3,
      'crash*': 3,
      broken: 2,
      'video*': 2,
      audio: 2,
      image: 1,
      'lesson*': 2,
      'course*': 2,
      churn: 2,
      'module*': 2,
      'template*': 2,
      'subtitle*': 2,
      'notification*': 2,
      digest: 2,
      forum: 1,
      search: 1,
      // Not plain `spam`: "checked my spam folder" is how access and receipt emails start.
      spamming: 2,
      'spammer*': 2,
      'moderat*': 2,
      terms: 1,
      share: 1,
    },
  },
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
    phrases: ['cant access', 'cant get in', 'cant get into', 'no longer get in'],
  },
];

/**
 * Replaced before matching, longest first. Use them for abbreviations and spellings that the typo
 * tolerance does not cover; the value must be written the way the phrases above are.
 */
export const ALIASES: Readonly<Record<string, string>> = {
  'log in': 'login',
  'log into': 'login',
  'logging in': 'login',
  'log on': 'login',
  'sign in': 'signin',
  'signing in': 'signin',
  'sign into': 'signin',
  'e mail': 'email',
  'pay pal': 'paypal',
  'q a': 'q and a',
  cannot: 'cant',
  'can not': 'cant',
  couldnt: 'cant',
  unable: 'cant',
  'do not': 'dont',
  'did not': 'didnt',
  'does not': 'doesnt',
  pwd: 'password',
  pw: 'password',
  acct: 'account',
  sub: 'subscription',
  subscr: 'subscription',
  'non-member': 'non member',
  nonmember: 'non member',
  'auto-renew': 'auto renew',
  autorenew: 'auto renew',
  autorenewal: 'auto renewal',
};

/**
 * Greetings, thanks and sign-offs in the languages our members write in. They are removed before
 * matching so that "hola", "danke" or "thx" never change the result.
 */
export const POLITENESS: readonly string[] = [
  // English
  ...['hi', 'hii', 'hello', 'hey', 'heya', 'hiya', 'dear', 'good morning', 'good afternoon', 'good evening'],
  ...['thanks', 'thank you', 'thank u', 'thanks a lot', 'many thanks', 'thx', 'thnx', 'tx', 'ty', 'tia', 'cheers'],
  ...['please', 'pls', 'plz', 'regards', 'kind regards', 'best regards', 'best'],
  // Spanish, French, German, Italian, Portuguese
  ...['hola', 'buenos dias', 'buenas tardes', 'buenas', 'gracias', 'muchas gracias', 'por favor', 'saludos'],
  ...['bonjour', 'bonsoir', 'salut', 'coucou', 'merci', 'merci beaucoup', 'sil vous plait', 'svp', 'cordialement'],
  ...['hallo', 'guten tag', 'guten morgen', 'moin', 'servus', 'danke', 'danke schon', 'vielen dank', 'bitte', 'lg'],
  ...['mfg', 'ciao', 'buongiorno', 'grazie', 'grazie mille', 'ola', 'oi', 'obrigado', 'obrigada'],
];

/** Up to this many other words may sit between two words of a phrase. */
export const MAX_GAP = 2;
/** Below this score the rules have not really recognised anything: the message goes to a human as `other`. */
export const MIN_SCORE = 2;
/**
 * When the runner-up scores at least this share of the winner, the two are too close to call: human. At 0.6 a
 * decisive phrase (3) against good evidence for another intent (2) is already too close: a wrong automatic
 * answer costs more than a founder reading one more message.
 */
export const CLOSE_RATIO = 0.6;
/** A score at which we are fully sure of the intent (used for the reported confidence). */
export const CONFIDENT_SCORE = 5;
