import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { MembershipStatus } from '../workflows/messages';
import { classifySupportRequest, normalizeMessage, type SupportRequest } from '../lib/support/classifier';
import { PLAIN_REQUEST_MARKS } from '../lib/support/plain-request';
import { MAX_MESSAGE_CHARS } from '../lib/free-text';
import { AUTO_REPLY_MIN_RULE_WEIGHT, CLOSE_RATIO, MIN_SCORE, MODEL_TIE_BREAK_MIN } from '../lib/support/rules';
import {
  accuracy,
  evaluateSupportCorpus,
  formatFailures,
  formatSupportReport,
  CROSS_VALIDATION_FOLDS,
  HELD_OUT_17_CORPUS_PATH,
  HELD_OUT_CORPUS_PATH,
  loadSupportCorpus,
  type SupportReport,
} from '../tools/support-report';
import { calibration, crossValidate, formatCalibration, formatConfusionMatrix } from '../tools/support-eval';

const activeMember = { status: 'active', allowed: true } as const;
const classify = (body: string, extra: Omit<SupportRequest, 'body'> = {}) => classifySupportRequest({ body, ...extra });

describe('support intent classification', () => {
  it.each([
    ['can you send me the reciept for march', 'invoice_receipt'],
    ['need the invioce for my accountant', 'invoice_receipt'],
    ['forgot my pasword', 'account_access'],
    ['cant loggin since yesterday', 'account_access'],
    ['how do i cancle', 'cancellation'],
  ])('reads the typo in "%s" as the word it meant (%s)', (body, intent) => {
    expect(classify(body).intent).toBe(intent);
  });

  it.each([
    ['Hola! ', ''],
    ['Bonjour, ', ' Merci beaucoup'],
    ['Hallo, ', ' Danke!'],
    ['hey, ', ' thx'],
    ['Hi team, ', ' Thank you, kind regards'],
  ])('gives the same answer when wrapped in "%s…%s"', (opening, closing) => {
    const bare = classify('my card was declined, how do I update it?', { member: activeMember });
    const polite = classify(`${opening}my card was declined, how do I update it?${closing}`, { member: activeMember });
    expect({ intent: polite.intent, route: polite.route, confidence: polite.confidence }).toEqual({
      intent: bare.intent,
      route: bare.route,
      confidence: bare.confidence,
    });
  });

  it('ignores case, accents and punctuation', () => {
    expect(normalizeMessage("Je voudrais RÉSILIER!!! Can't LOG-IN…")).toEqual([
      ['je', 'voudrais', 'resilier'],
      ['cant', 'login'],
    ]);
    expect(classify('Je voudrais RÉSILIER mon abonnement!!!').intent).toBe('cancellation');
  });

  it('does not treat a different real word as a typo ("changed" is not "charged")', () => {
    const result = classify('I changed my email address last week');
    expect(result.matched.map((m) => m.rule)).not.toContain('charge*');
  });

  it('does not read the annual plan as the French "annuler"', () => {
    const result = classify('When does my membership expire? I am on the annual plan.', { member: activeMember });
    expect(result.matched.map((m) => m.intent)).not.toContain('cancellation');
    expect(result).toMatchObject({ intent: 'membership_status', route: 'auto_reply' });
  });

  it.each([
    ['put my subscription on hold for the summer', 'cancellation'],
    ['how do I switch off the auto-renewal?', 'cancellation'],
    ['I need the paperwork for my accountant', 'invoice_receipt'],
    ['my bank blocked the payment, what now?', 'billing'],
    ['where do I update my billing info?', 'billing'],
    ['the sign-in link you sent me has expired', 'account_access'],
    ['I get "user not found" when I try to access my account', 'account_access'],
    ['does my plan renew automatically?', 'membership_status'],
  ] as const)('knows the whole family of an idea: "%s" (%s)', (body, intent) => {
    expect(classify(body, { member: activeMember })).toMatchObject({ intent, route: 'auto_reply' });
  });

  it.each([
    ['Ich möchte mein Abo beenden.', 'cancellation'],
    ['Quiero darme de baja de la membresía', 'cancellation'],
    ['Est-ce que mon abonnement est toujours actif ?', 'membership_status'],
    ['Die Abbuchung ist fehlgeschlagen, wie ändere ich die Zahlungsmethode?', 'billing'],
    ['je ne peux pas me connecter', 'account_access'],
    ['necesito la factura del mes pasado', 'invoice_receipt'],
  ] as const)('reads the German, French or Spanish key words in "%s" (%s)', (body, intent) => {
    expect(classify(body, { member: activeMember }).intent).toBe(intent);
  });

  it('ignores the quoted earlier message of an email reply', () => {
    const body =
      'Where can I download the slides from the workshop?\n\nOn Tue, 4 Mar 2025, Anna wrote:\n> How do I cancel my membership?';
    expect(classify(body).matched.map((m) => m.intent)).not.toContain('cancellation');
  });

  it('explains the decision with the rules that fired, their weights and the scores', () => {
    const result = classify('I was charged twice this month', { member: activeMember });
    expect(result.intent).toBe('billing');
    expect(result.matched).toEqual(expect.arrayContaining([{ intent: 'billing', rule: 'charged twice', weight: 3 }]));
    expect(result.confidence).toBeGreaterThan(0);
    expect(result.confidence).toBeLessThanOrEqual(1);
    expect(result.reason).toContain('"charged twice" +3');
  });

  it('counts a "not" phrase against its intent', () => {
    const result = classify("My access is gone but I didn't cancel anything", { member: activeMember });
    expect(result.matched).toContainEqual({ intent: 'cancellation', rule: 'didnt cancel*', weight: -3 });
    expect(result.intent).not.toBe('cancellation');
  });

  it('reads "no access" from a member without access as a membership status question', () => {
    const result = classify('I have no access since yesterday', { member: { status: 'canceled', allowed: false } });
    expect(result.intent).toBe('membership_status');
    expect(result.matched).toContainEqual({
      intent: 'membership_status',
      rule: 'context:no-access-without-membership',
      weight: 2,
    });
  });

  it('reads "cannot access" from a member with access as a login problem', () => {
    expect(classify('I cannot access the community', { member: activeMember }).intent).toBe('account_access');
  });

  it('boosts billing for a member in dunning only when the message is about paying', () => {
    const dunning = { status: 'past_due', allowed: false } as const;
    expect(classify('my card was declined', { member: dunning }).matched.map((m) => m.rule)).toContain(
      'context:dunning-boosts-billing',
    );
    expect(classify('the workshop video is broken', { member: dunning }).matched.map((m) => m.rule)).not.toContain(
      'context:dunning-boosts-billing',
    );
  });
});

describe('support routing', () => {
  it.each<MembershipStatus>(['past_due', 'grace_period'])(
    'sends a billing question from a member in %s to the billing flow',
    (status) => {
      const result = classify('My card was declined, how do I update my payment method?', {
        member: { status, allowed: status === 'grace_period' },
      });
      expect(result).toMatchObject({ intent: 'billing', route: 'billing_flow' });
    },
  );

  it('answers a billing question from an active member with the card-update reply', () => {
    expect(classify('How do I update my credit card?', { member: activeMember })).toMatchObject({
      intent: 'billing',
      route: 'auto_reply',
    });
  });

  it.each(['invoice_receipt', 'account_access', 'membership_status', 'cancellation'] as const)(
    'answers a clear %s question automatically',
    (intent) => {
      const body = {
        invoice_receipt: 'Please send me a copy of my invoice',
        account_access: 'How do I sign in to the members area?',
        membership_status: 'Is my membership active?',
        cancellation: 'How do I cancel my membership?',
      }[intent];
      expect(classify(body, { member: activeMember })).toMatchObject({ intent, route: 'auto_reply' });
    },
  );

  it('hands a second message after an automatic reply to a human', () => {
    const first = classify('Please send me a copy of my invoice', { member: activeMember, priorAutoReplies: 0 });
    const second = classify('Please send me a copy of my invoice', { member: activeMember, priorAutoReplies: 1 });
    expect(first.route).toBe('auto_reply');
    expect(second).toMatchObject({ intent: 'invoice_receipt', route: 'human' });
    expect(second.reason).toContain('wrote again after 1 automatic reply');
  });

  it('hands a member in dunning who writes again to a human rather than the billing flow', () => {
    const result = classify('my card was declined again', {
      member: { status: 'past_due', allowed: false },
      priorAutoReplies: 2,
    });
    expect(result.route).toBe('human');
  });

  it('hands a message made only of hints to a human, even when they add up', () => {
    // "access" and "locked" are hints for membership_status; together they pass MIN_SCORE but prove nothing.
    const result = classify('my access seems locked', { member: activeMember });
    const evidence = result.matched.filter((m) => m.intent === result.intent);
    expect(evidence.reduce((sum, m) => sum + m.weight, 0)).toBeGreaterThanOrEqual(MIN_SCORE);
    expect(evidence.every((m) => m.weight < AUTO_REPLY_MIN_RULE_WEIGHT)).toBe(true);
    expect(result).toMatchObject({ intent: 'membership_status', route: 'human' });
    expect(result.reason).toContain('Only hints');
  });

  it('lets what we know about the member confirm hints: no access and no membership is a status answer', () => {
    const result = classify('My access to the members area disappeared today', {
      member: { status: 'canceled', allowed: false },
    });
    expect(result).toMatchObject({ intent: 'membership_status', route: 'auto_reply' });
  });

  it('hands a message with only weak evidence to a human as other', () => {
    const result = classify('question about my card', { member: activeMember });
    expect(result.matched.reduce((sum, m) => sum + m.weight, 0)).toBeLessThan(MIN_SCORE);
    expect(result).toMatchObject({ intent: 'other', route: 'human' });
    expect(result.confidence).toBeLessThan(0.5);
  });

  it('hands a message to a human when two intents score too close to call', () => {
    const result = classify('How do I cancel, and will I get an invoice for the last month?', { member: activeMember });
    expect(result.route).toBe('human');
    expect(result.reason).toMatch(/too close to call/i);
    expect(result.confidence).toBeLessThan(1 - CLOSE_RATIO + 0.01);
  });

  it('files "cancel and refund" under cancellation for the person who answers (the refund is why a person does)', () => {
    const result = classify('I want to cancel, and can I get a refund for this month?', { member: activeMember });
    expect(result).toMatchObject({ intent: 'cancellation', route: 'human' });
    expect(result.reason).toMatch(/^A complaint about a charge \("refund\*"\)/);
  });

  it.each([
    'Hi! I run a podcast and would love to have you as a guest',
    'I found a security issue in your login form: no rate limit on password attempts',
    'Feature request: could you add an export of my invoices to CSV?',
    'Can I invite my cofounder to the community on my membership?',
    'How do you handle failed payments in your own business? Looking for dunning tips',
    'I got a receipt for a course I never ordered. Is this phishing?',
    '',
  ])('never answers other automatically: "%s"', (body) => {
    const result = classify(body, { member: activeMember });
    expect(result.intent).toBe('other');
    expect(result.route).toBe('human');
  });
});

const wrongAutomaticAnswers = (report: SupportReport) =>
  report.results.filter(({ entry, result }) => result.route !== 'human' && result.intent !== entry.expectedIntent);

describe('support corpus', () => {
  const report = evaluateSupportCorpus(loadSupportCorpus());

  it('holds at least 200 messages with a good share of other', () => {
    expect(report.results.length).toBeGreaterThanOrEqual(200);
    expect(report.rows.find((r) => r.intent === 'other')?.messages).toBeGreaterThanOrEqual(50);
  });

  it('classifies the five named intents with at least 90% accuracy', () => {
    console.log(
      `Support classifier on the corpus (${report.results.length} messages)\n\n${formatSupportReport(report)}`,
    );
    expect(accuracy(report.named)).toBeGreaterThanOrEqual(0.9);
  });

  it('never answers a corpus message about something else automatically', () => {
    const autoAnsweredOther = report.results.filter(
      ({ entry, result }) => entry.expectedIntent === 'other' && result.route !== 'human',
    );
    expect(autoAnsweredOther.map(({ entry }) => entry.body)).toEqual([]);
  });

  it('gives no wrong automatic answer on the corpus', () => {
    expect(wrongAutomaticAnswers(report).map(({ entry }) => entry.body)).toEqual([]);
  });

  it('routes every message classified as other to a human', () => {
    const others = report.results.filter(({ result }) => result.intent === 'other');
    expect(others.length).toBeGreaterThan(0);
    expect(others.every(({ result }) => result.route === 'human')).toBe(true);
  });
});

// Written before the rules were last changed and never used to tune them. There is no accuracy threshold on
// purpose: it is a measure of how the rules do on messages nobody wrote them for, and a threshold would invite
// tuning on it. What must hold even here is the safety of the automatic answers.
describe('support held-out set', () => {
  const report = evaluateSupportCorpus(loadSupportCorpus(HELD_OUT_CORPUS_PATH));

  it('never answers a held-out message about something else automatically', () => {
    console.log(
      `Support classifier on the held-out set (${report.results.length} messages, never tuned on)\n\n` +
        `${formatSupportReport(report)}\n\n${formatFailures(report)}`,
    );
    const autoAnsweredOther = report.results.filter(
      ({ entry, result }) => entry.expectedIntent === 'other' && result.route !== 'human',
    );
    expect(autoAnsweredOther.map(({ entry }) => entry.body)).toEqual([]);
  });

  it('gives at most one wrong automatic answer on messages the rules were not written for', () => {
    expect(wrongAutomaticAnswers(report).length).toBeLessThanOrEqual(1);
  });
});

describe('support report', () => {
  it("prints today's table for a corpus in today's format given on the command line", () => {
    // Held-out 3 has no autoReplyAcceptable labels: the format every earlier corpus has.
    const run = spawnSync(
      process.execPath,
      [require.resolve('tsx/cli'), path.join('tools', 'support-report.ts'), HELD_OUT_CORPUS_PATH],
      { encoding: 'utf8', timeout: 120_000, cwd: path.join(__dirname, '..') },
    );
    expect(run.status).toBe(0);
    const report = evaluateSupportCorpus(loadSupportCorpus(HELD_OUT_CORPUS_PATH));
    expect(run.stdout).toContain(formatSupportReport(report));
    expect(run.stdout).toContain(
      '| Intent | Messages | Accuracy | Resolved without a human | Wrong automatic answers |',
    );
    expect(run.stdout).toMatch(/\| \*\*five named intents\*\* \| 59 \| \d+% \| \d+% \| \d+ \|/);
    expect(run.stdout).toContain('5-fold cross-validation over the 79 messages');
  });

  it('counts an automatic answer to a message labelled as needing a person as a wrong answer, not a resolved one', () => {
    const entry = { body: 'I was charged twice, refund one please', expectedIntent: 'billing' as const };
    const answered = {
      intent: 'billing' as const,
      route: 'auto_reply' as const,
      confidence: 0.9,
      matched: [],
      reason: 'x',
    };
    const plain = evaluateSupportCorpus([entry], [{ entry, result: answered }]);
    const labelled = { ...entry, autoReplyAcceptable: false };
    const strict = evaluateSupportCorpus([labelled], [{ entry: labelled, result: answered }]);
    expect(plain.named).toMatchObject({ resolvedWithoutHuman: 1, wrongAutomatic: 0 });
    expect(strict.named).toMatchObject({ resolvedWithoutHuman: 0, wrongAutomatic: 1, rightIntentNeededPerson: 1 });
  });
});

describe('support: the right topic, but a person is needed', () => {
  const member = { status: 'active' as const, allowed: true };

  it.each([
    ['This is my fourth message about the invoice and still no reply', 'invoice_receipt', 'a follow-up'],
    ['My email address changed, please update my login to the new one', 'account_access', 'a change to the account'],
    [
      'Please send the invoice again with our VAT ID on it',
      'invoice_receipt',
      'an invoice to change or a tax question',
    ],
    ['the sign-in link loops back to the login page', 'account_access', 'a sign-in fault'],
    ['Which plan am I on right now?', 'membership_status', 'a question about plans'],
    ['I want my membership back, restore it please', 'membership_status', 'a demand to undo or restore'],
  ] as const)('hands "%s" (%s) to a person and says why', (body, intent, why) => {
    const result = classifySupportRequest({ body, member });
    expect(result).toMatchObject({ intent, route: 'human' });
    expect(result.reason).toContain(`Needs a person although the intent is clear, ${why}`);
  });

  it.each([
    ['Can you send me my invoice for May?', 'invoice_receipt'],
    ['How do I log in?', 'account_access'],
  ] as const)('still answers the plain request "%s" automatically', (body, intent) => {
    expect(classifySupportRequest({ body, member })).toMatchObject({ intent, route: 'auto_reply' });
  });

  // The plain-request gate (lib/support/plain-request.ts), on messages of the training corpus that got the right
  // intent's reply before round 4 although they needed a person.
  it.each([
    [
      'Kündigung zum Monatsende, bitte schriftlich bestätigen',
      'cancellation',
      'terms the reply does not cover',
      'schriftlich',
    ],
    [
      'Is there a cancellation fee if I leave before the year ends?',
      'cancellation',
      'terms the reply does not cover',
      'fee',
    ],
    [
      'The magic link email never shows up, not even in spam.',
      'account_access',
      'a report of what the member sees',
      'never shows',
    ],
    [
      'Zahlung fehlgeschlagen?? ich hab doch schon eine neue Karte hinterlegt',
      'billing',
      'insistent punctuation, a complaint rather than a request',
      '??',
    ],
    ['Cancelling on behalf of my father who is in hospital', 'cancellation', 'a request for someone else', 'on behalf'],
  ] as const)('hands "%s" (%s) to a person: not a plain request, and names the mark', (body, intent, why, words) => {
    const result = classifySupportRequest({ body, member });
    expect(result).toMatchObject({ intent, route: 'human' });
    expect(result.reason).toContain(`Not a plain request that the ${intent} reply fully answers`);
    expect(result.reason).toContain(why);
    expect(result.reason).toContain(`("${words}")`);
  });

  it('names every mark of the plain-request gate that fired, for the founder', () => {
    const result = classifySupportRequest({
      body: 'You charged 49 EUR every time for the invoice to Nordlicht GmbH??',
      member,
    });
    expect(result.route).toBe('human');
    for (const why of [
      'a sum of money',
      'insistent punctuation',
      'something we did',
      'company or tax details',
      'something that keeps happening',
    ]) {
      expect(result.reason).toContain(why);
    }
  });

  // Round 5's marks, on messages written for this test (plain requests of the same intent pass: see the next test).
  it.each([
    [
      'Cancel my membership please, the worst service I have had, no answer in a week.',
      'a complaint about how the member was treated',
    ],
    ['The receipt page gives me a 404 when I open the link from the email.', 'a report of what the member sees'],
    [
      'I reset my password three times and I am waiting since Monday for the sign-in email.',
      'something that keeps happening',
    ],
    ["cancel my wife's membership please", 'a request for someone else'],
    ['Kann ich eine Rechnung mit ausgewiesener Mehrwertsteuer bekommen?', 'company or tax details'],
    ['Cancel my plan, and I want the unused months back.', 'terms the reply does not cover'],
    // Rounds 6 and 7.
    ['Can I pay with PayPal?', 'a question about what we offer'],
    ['is my membership active? writing from my personal address this time', 'a message from another address'],
    [
      'Bonjour, le bouton pour résilier ne fait rien. Pouvez-vous le faire pour moi ?',
      'a request that we do it for the member',
    ],
    ['How do I log in? I no longer have the email I joined with.', 'a sign-in address the member no longer has'],
    ['When does my membership renew, and how much will it be?', 'a question about a price'],
    ['Pause or cancel, whichever one keeps my posts?', 'a question about what happens next'],
    // Round 8.
    ['Is my membership paused? I clicked pause last month.', 'a pause, which the status reply does not show'],
    ['Please end my subscription at the end of the month and send me a confirmation.', 'a confirmation the reply'],
    ["I'm the bookkeeper for Ana Ruiz, could you send me her receipts?", 'a request for someone else'],
    ["the billing portal won't let me change the card, the button is greyed out", 'something that does not work'],
    // Round 9.
    ['How do I log in? The Google button is gone.', 'a report of what the member sees'],
    // Round 10.
    ['I sign in with the link and it drops me right back to the login page in Safari', 'a sign-in fault'],
    ["I can't log in, and my whole team is locked out too", 'a sign-in fault'],
    ["I can't log in since the update this morning", 'a sign-in fault'],
    ['Le lien de connexion ouvre une page blanche', 'a report of what the member sees'],
    ["I can't sign in on my iPad, it works fine on my laptop", 'a sign-in fault on one device only'],
    ['can I have the receipt in pounds please', 'another currency'],
    ['We need a pro forma invoice before we can pay for the membership', 'an invoice before any payment'],
    ['Please cancel the subscription of my father, he died last week', 'a death, which a person handles'],
    ['Kann ich auch mit PayPal bezahlen?', 'a question about what we offer'],
    ['Where do I change my card, or is it charged on its own anyway?', 'whether it renews or charges by itself'],
    ['Intenté iniciar sesión tres veces y no puedo entrar', 'something that keeps happening'],
    // Round 12.
    ['Soy la contadora de Laura Gil, necesito sus facturas de este año', 'a request for someone else'],
    ['Can I just let it lapse or do I have to cancel formally?', 'a question about what happens next'],
    ['Ich möchte kündigen. Können Sie das bitte für mich erledigen?', 'a request that we do it for the member'],
    ['My payment failed. Will you charge my card again automatically?', 'a request that we do it for the member'],
    ['How do I update my card? And can I move the payment date to the 28th?', 'a change of the day'],
    ['Can you send me the receipt? I think the payment went through this time.', 'whether a payment went through'],
    ['I see a charge from you on the 12th. What is this for?', 'a charge the member does not recognise'],
    ['I hit cancel during my trial, how do I cancel?', 'a cancellation the member already made'],
    ['Can I downgrade to a cheaper plan instead of cancelling?', 'a cheaper plan or a downgrade'],
  ])('sends "%s" to a person, naming the mark (%s)', (body, why) => {
    const result = classify(body, { member: activeMember });
    expect(result.route).toBe('human');
    expect(result.reason).toContain(why);
  });

  it.each([
    ['How do I cancel my membership?', 'cancellation'],
    ['Where can I download my invoice for March?', 'invoice_receipt'],
    ['How do I update my card?', 'billing'],
  ])('still answers the plain request "%s" automatically', (body, intent) => {
    const result = classify(body, { member: activeMember });
    expect(result).toMatchObject({ intent, route: 'auto_reply' });
  });

  // Round 12: a French past participle is not its infinitive read with a typo ("jai annule" is a complaint about a
  // cancellation, "jai cherche comment annuler" asks how to cancel).
  it('answers "I looked for how to cancel" in French with the how-to-cancel reply, not as a complaint', () => {
    const result = classify("J'ai cherché comment annuler mais je ne trouve pas le bouton. Où est-il ?", {
      member: activeMember,
    });
    expect(result).toMatchObject({ intent: 'cancellation', route: 'auto_reply' });
  });

  // Round 11: the status reply gives an active or trialing member the date it renews, ends, or the trial ends.
  it.each([
    ['what date does my membership renew? I want to plan for it', 'active'],
    ['Is my membership still active, or does it renew on its own?', 'active'],
    ['how many days are left on my trial?', 'trialing'],
    ['¿Hasta qué fecha está pagada mi membresía?', 'active'],
  ] as const)('answers "%s" from a member in %s with the status reply, which gives the date', (body, status) => {
    const result = classify(body, { member: { status, allowed: true } });
    expect(result).toMatchObject({ intent: 'membership_status', route: 'auto_reply' });
  });

  it.each([
    ['what date does my membership renew? I want to plan for it', 'a date the status reply does not give'],
    ['Does my membership renew on its own?', 'whether it renews or charges by itself'],
  ])(
    'sends "%s" from a member whose payment failed to a person: their status reply gives no date (%s)',
    (body, why) => {
      const result = classify(body, { member: { status: 'past_due', allowed: false } });
      expect(result.route).toBe('human');
      expect(result.reason).toContain(why);
    },
  );

  it.each([
    'I clicked the cancel button yesterday, did that actually work?',
    '¿Tengo acceso todavía? Cancelé la semana pasada.',
  ])('answers "%s" (did my cancellation work?) with the status, never the how-to-cancel reply', (body) => {
    const result = classify(body, { member: { status: 'canceled', allowed: false } });
    expect(result.intent).toBe('membership_status');
    expect(result.reason).toMatch(/^A complaint about a cancellation/);
  });

  it('hands a status question to a person when the member says they paid and our records give no access', () => {
    const body = 'Is my membership active? I paid on the 3rd.';
    const result = classify(body, { member: { status: 'past_due', allowed: false } });
    expect(result).toMatchObject({ intent: 'membership_status', route: 'human' });
    expect(result.reason).toMatch(/^The member says "i paid" while our records give no access/);
    // With access, the status reply is what the member asked for.
    expect(classify(body, { member: activeMember })).toMatchObject({
      intent: 'membership_status',
      route: 'auto_reply',
    });
  });

  it('sends a bare "unsubscribe" to a person, the topic named as the rules hint it and the model reads it', () => {
    const result = classify('unsubscribe', { member: activeMember });
    expect(result).toMatchObject({ route: 'human', intent: 'cancellation' });
    expect(result.reason).toContain('the model names the topic: cancellation');
  });

  it('lets the model name the topic for the person when the rules only hint, and never answer on it', () => {
    const named = loadSupportCorpus()
      .map((entry) => classifySupportRequest(entry))
      .filter((result) => result.reason.includes('the model names the topic'));
    expect(named.length).toBeGreaterThan(0);
    for (const result of named) {
      expect(result.route).toBe('human');
      expect(result.intent).not.toBe('other');
      expect(result.intent).toBe(result.model?.intent);
      expect(result.reason).toContain(`No intent reached the minimum score of ${MIN_SCORE}`);
    }
  });

  it('lets the model break a tie between two named intents only when it is sure, and says so', () => {
    const decided = loadSupportCorpus()
      .map((entry) => classifySupportRequest(entry))
      .filter((result) => result.reason.includes('too close for the rules, the model chose'))
      // A disputed charge overrides the model's choice (billing, a person): the tie-break did not decide those.
      .filter((result) => !result.reason.startsWith('A complaint about a charge'));
    expect(decided.length).toBeGreaterThan(0);
    for (const result of decided) {
      expect(result.model?.intent).toBe(result.intent);
      expect(result.model?.probability).toBeGreaterThanOrEqual(MODEL_TIE_BREAK_MIN);
    }
  });
});

// Held-outs 5 to 16 were measured, so they are training data now (round 13 folded held-out 16 into the corpus).
// Held-out 17 was written by a helper from the replies' text alone, never the rules, the corpus or the older held-out
// sets, and committed before round 13's classifier changes (8e9a3a3 says so), in members' voices (41 of 160 in
// German, French or Spanish, typos, non-native English, anger, one line and long, two questions in one, 9 unknown
// senders), labelled with the intent and whether the intent's reply fully serves the member (60 of its 135
// named-intent messages do not: the resolved share cannot pass 56%).
// Measured once after round 13 was committed (`npx tsx tools/support-report.ts test/data/support-holdout-17.json`):
// 86% (116 of 135), 27% (36), 3 wrong automatic answers, each the right intent's reply to a message that needed a
// person; no other intent's reply and no message about something else answered. Round 12's classifier gave the same
// 116, 36 and 3 on it: round 13's changes, chosen on the corpus, neither helped nor hurt on unseen messages.
describe('support held-out set 17', () => {
  const report = evaluateSupportCorpus(loadSupportCorpus(HELD_OUT_17_CORPUS_PATH));
  const wrongIntent = report.results.filter(
    ({ entry, result }) => result.route !== 'human' && result.intent !== entry.expectedIntent,
  );

  it('holds at least 150 messages, at least 20 in every intent, some needing a person whatever the intent', () => {
    expect(report.results.length).toBeGreaterThanOrEqual(150);
    expect(report.rows.every((row) => row.messages >= 20)).toBe(true);
    expect(report.results.filter(({ entry }) => entry.autoReplyAcceptable === false).length).toBeGreaterThan(0);
  });

  it('classifies the five named intents at least as well as measured (116 of 135, 86%)', () => {
    console.log(
      `Support classifier on held-out set 17 (${report.results.length} messages)\n\n` +
        `${formatSupportReport(report)}\n\n${formatConfusionMatrix(report.results)}\n\n${formatFailures(report)}`,
    );
    expect(report.named.correct).toBeGreaterThanOrEqual(116);
  });

  it('resolves at least as many named-intent requests without a person as measured (36 of 135)', () => {
    expect(report.named.resolvedWithoutHuman).toBeGreaterThanOrEqual(36);
  });

  it('gives no more wrong automatic answers on the named intents than measured (3)', () => {
    expect(report.named.wrongAutomatic).toBeLessThanOrEqual(3);
  });

  it("answers no message about something else, and none with another named intent's reply (measured)", () => {
    expect(wrongIntent).toHaveLength(0);
  });

  // Issue 17's targets, not met on held-out 17 (86%, 27%, 3 wrong automatic answers). `it.failing` keeps them
  // visible and turns red the day they hold, so that the line becomes `it`. Never tune on this set to make them
  // pass: fold it into the training corpus and write held-out 18 first.
  it.failing('reaches 92% on the five named intents (issue 17 target; measured 86%)', () => {
    expect(accuracy(report.named)).toBeGreaterThanOrEqual(0.92);
  });

  it.failing('resolves 75% of the named-intent requests without a person (issue 17 target; measured 27%)', () => {
    expect(report.named.resolvedWithoutHuman / report.named.messages).toBeGreaterThanOrEqual(0.75);
  });

  it.failing('gives no wrong automatic answer on the held-out set (issue 17 target; measured 3)', () => {
    expect(report.named.wrongAutomatic).toBe(0);
  });
});

describe('support cross-validation', () => {
  const corpus = loadSupportCorpus();
  const folds = evaluateSupportCorpus(corpus, crossValidate(corpus, CROSS_VALIDATION_FOLDS));

  it('keeps the named intents at 90% or more when each fold is classified by a model that never saw it', () => {
    console.log(`${CROSS_VALIDATION_FOLDS}-fold cross-validation over the corpus\n\n${formatSupportReport(folds)}`);
    // 90.2% in round 13 (88.9% when held-out 16 joined the corpus), 89.3% in round 12 (89.2% when held-out 15 joined; 89.8% in round 11, 89.4% when held-out 14
    // joined, 90.1% in round 10, 90.0% in round 9, 90.5% in round 8, 91% in round 7; 93% before held-out 7).
    expect(accuracy(folds.named)).toBeGreaterThanOrEqual(0.89);
    // None in rounds 11 to 13 (3 when held-out 16 joined the corpus, 9 when held-out 15 did, 5 when held-out 14 did; none in rounds 9
    // and 10, one in rounds 6 to 8).
    expect(folds.named.wrongAutomatic).toBe(0);
  });

  it('keeps 95% or more of the automatic answers right at every confidence step on unseen folds', () => {
    const rows = calibration(crossValidate(corpus, CROSS_VALIDATION_FOLDS, 0));
    console.log(`Cross-validated calibration\n\n${formatCalibration(rows)}`);
    expect(rows.every((r) => r.answered > 0 && r.right / r.answered >= 0.95)).toBe(true);
    const [lowest] = rows;
    const highest = rows[rows.length - 1];
    // Since the plain-request gate the few wrong answers left are not the least confident ones:
    // the top step may be one answer worse than the lowest, no more.
    expect(highest.right / highest.answered).toBeGreaterThanOrEqual(
      lowest.right / lowest.answered - 1 / highest.answered,
    );
  });
});

describe('plain-request marks on hostile text', () => {
  /** The fastest of five runs of every mark on `text`, in ms: the minimum is what the pattern costs, not the box. */
  const slowestMark = (text: string): { ms: number; why: string } => {
    let worst = { ms: 0, why: '' };
    for (const mark of PLAIN_REQUEST_MARKS) {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        mark.pattern.test(text);
        best = Math.min(best, performance.now() - started);
      }
      if (best > worst.ms) worst = { ms: best, why: mark.why };
    }
    return worst;
  };

  it('reads a message of the longest allowed length in about the time of a benign one (no backtracking blow-up)', () => {
    const n = MAX_MESSAGE_CHARS;
    const benign = slowestMark('Could you send me my receipt please. '.repeat(Math.ceil(n / 37)).slice(0, n));
    for (const [name, text] of [
      ['one long number', '1'.repeat(n)],
      ['a question mark, then no other', `?${'a'.repeat(n - 1)}`],
      ['a question mark, then spaced words', `?${' a'.repeat(n / 2 - 1)}`],
      ['"you" before an endless word', `you ${'d'.repeat(n - 4)}`],
      ['"still" over and over', 'still '.repeat(n / 6)],
    ] as const) {
      const hostile = slowestMark(text);
      // A quadratic pattern costs thousands of times the benign text here (144 ms against 0.05 ms when measured).
      expect({ name, mark: hostile.why, withinBenign: hostile.ms <= Math.max(50 * benign.ms, 1) }).toEqual({
        name,
        mark: hostile.why,
        withinBenign: true,
      });
    }
  });
});
