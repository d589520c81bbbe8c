/**
 * How a message is tidied before the phrases in `phrases/` are looked for: abbreviations and foreign nouns
 * read as one English word, and greetings removed. Data only; see `rules.ts` for how to write phrases.
 */

/**
 * Replaced before matching, longest first. Use them for abbreviations and spellings that the typo
 * tolerance does not cover, and for nouns that mean the same in every language we read (so that
 * "mon abonnement est actif" meets the same phrases as "my subscription is active"). The value must be
 * written the way phrases are; phrases go through the same replacements.
 */
export const ALIASES: Readonly<Record<string, string>> = {
  // Signing in
  'log in': 'login',
  'log into': 'login',
  'logging in': 'login',
  'log on': 'login',
  'sign in': 'signin',
  'signing in': 'signin',
  'sign into': 'signin',
  'sign up': 'signup',
  'e mail': 'email',
  pwd: 'password',
  pw: 'password',
  passwd: 'password',
  mfa: '2fa',
  // Negations, so that one phrase covers every way of writing them
  cannot: 'cant',
  'can not': 'cant',
  couldnt: 'cant',
  unable: 'cant',
  'do not': 'dont',
  'did not': 'didnt',
  'does not': 'doesnt',
  'have not': 'havent',
  'will not': 'wont',
  // Chat shorthand
  u: 'you',
  ur: 'your',
  acct: 'account',
  acc: 'account',
  sub: 'subscription',
  subscr: 'subscription',
  'pay pal': 'paypal',
  'q a': 'q and a',
  // One word for the same thing
  'non-member': 'non member',
  nonmember: 'non member',
  'auto-renew': 'auto renew',
  autorenew: 'auto renew',
  autorenewal: 'auto renewal',
  yearly: 'annual',
  anual: 'annual',
  annually: 'annual',
  // The same nouns in German, French, Spanish, Italian and Portuguese
  mitgliedschaft: 'membership',
  membresia: 'membership',
  adhesion: 'membership',
  abonnement: 'subscription',
  abo: 'subscription',
  suscripcion: 'subscription',
  subscripcion: 'subscription',
  abbonamento: 'subscription',
  assinatura: 'subscription',
  konto: 'account',
  compte: 'account',
  cuenta: 'account',
};

/**
 * Greetings, thanks and sign-offs in the languages our members write in. They are removed before
 * matching so that "hola", "danke" or "thx" never change the result.
 */
export const POLITENESS: readonly string[] = [
  // English
  ...['hi', 'hii', 'hello', 'hey', 'heya', 'hiya', 'dear', 'good morning', 'good afternoon', 'good evening'],
  ...['thanks', 'thank you', 'thank u', 'thanks a lot', 'many thanks', 'thx', 'thnx', 'tx', 'ty', 'tia', 'cheers'],
  ...['please', 'pls', 'plz', 'regards', 'kind regards', 'best regards', 'best', 'kindly'],
  ...['thanking you in advance', 'thanks in advance', 'hope you are well', 'hope you are doing well'],
  // Spanish, French, German, Italian, Portuguese
  ...['hola', 'buenos dias', 'buenas tardes', 'buenas', 'gracias', 'muchas gracias', 'por favor', 'saludos'],
  ...['bonjour', 'bonsoir', 'salut', 'coucou', 'merci', 'merci beaucoup', 'sil vous plait', 'svp', 'cordialement'],
  ...['hallo', 'guten tag', 'guten morgen', 'moin', 'servus', 'danke', 'danke schon', 'vielen dank', 'bitte', 'lg'],
  ...['mfg', 'ciao', 'buongiorno', 'grazie', 'grazie mille', 'ola', 'oi', 'obrigado', 'obrigada'],
];
