/**
 * Complaints about something that already happened to the member: cancelled, charged, locked out. A complaint
 * is not a request to do it, so it never gets a how-to reply (how to cancel, how to update a card):
 * - a complaint about a cancellation asks what happened to the membership: the status answer, or a person;
 * - a complaint about a charge (twice, unrecognised, money back) goes to a person, who can refund.
 * Same phrase syntax as the intent files (see the top of `rules.ts`); weights are not used here.
 */

/** "Why / who / what happened": the member asks about an outcome, not for an action. */
export const COMPLAINT_PHRASES: readonly string[] = [
  'why was i',
  'why am i',
  'why is my',
  'why was my',
  'why did you',
  'why did my',
  'who cancel*',
  'didnt cancel*',
  'did not cancel*',
  'never cancel*',
  'never asked',
  'wasnt me',
  'was not me',
  'out of nowhere',
  'without my permission',
  'without my consent',
  'without asking',
  'what happened',
  'no reason',
  // German, French, Spanish.
  'warum',
  'wieso',
  'nicht gekundigt',
  'pourquoi',
  'pas resilie',
  'por que',
  'porque se',
  'no cancele',
];

/** A charge the member disputes: only a person can look at it and refund. */
export const DISPUTED_CHARGE_PHRASES: readonly string[] = [
  'charged twice',
  'charged me twice',
  'double charge*',
  'double billed',
  'two charges',
  'two payments',
  'twice',
  'two time*',
  'charged even',
  'still charged',
  'money back',
  'refund*',
  'dont recogni*',
  'do not recogni*',
  'didnt authori*',
  'charged the yearly',
  'charged the annual',
  // German, French, Spanish.
  'doppelt',
  'ruckerstattung',
  'zuruck',
  'deux fois',
  'rembours*',
  'dos veces',
  'devuelv*',
  'reembols*',
];
