import type { MembershipStatus } from '../workflows/messages';
import { classifySupportRequest, normalizeMessage, type SupportRequest } from '../lib/support/classifier';
import { CLOSE_RATIO, MIN_SCORE } from '../lib/support/rules';
import {
  describeMembership,
  MissingPlaceholderError,
  PLACEHOLDERS,
  renderReply,
  ReplyTemplateError,
  REPLY_TEMPLATES,
  requiredPlaceholders,
  type AutoRepliedIntent,
  type ReplyContext,
} from '../lib/support/templates';
import { accuracy, evaluateSupportCorpus, formatSupportReport, loadSupportCorpus } from '../scripts/support-report';

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
        account_access: 'The magic link never arrives',
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

  it('hands a message with only weak evidence to a human as other', () => {
    const result = classify('question about my card', { member: activeMember });
    expect(result.matched.reduce((sum, m) => sum + m.weight, 0)).toBeLessThan(MIN_SCORE);
    expect(result).toMatchObject({ intent: 'other', route: 'human' });
    expect(result.confidence).toBeLessThan(0.5);
  });

  it('hands a message to a human when two intents score too close to call', () => {
    const result = classify('I want to cancel, and can I get a refund for this month?', { member: activeMember });
    expect(result.route).toBe('human');
    expect(result.reason).toMatch(/too close to call/i);
    expect(result.confidence).toBeLessThan(1 - CLOSE_RATIO + 0.01);
  });

  it.each([
    'Hi! I run a podcast and would love to have you as a guest',
    'I found a security issue in your login form: no rate limit on password attempts',
    'Feature request: could you add an export of my invoices to CSV?',
    '',
  ])('never answers other automatically: "%s"', (body) => {
    const result = classify(body, { member: activeMember });
    expect(result.intent).toBe('other');
    expect(result.route).toBe('human');
  });
});

describe('support corpus', () => {
  const report = evaluateSupportCorpus(loadSupportCorpus());

  it('holds at least 80 messages with a good share of other', () => {
    expect(report.results.length).toBeGreaterThanOrEqual(80);
    expect(report.rows.find((r) => r.intent === 'other')?.messages).toBeGreaterThanOrEqual(20);
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

  it('routes every message classified as other to a human', () => {
    const others = report.results.filter(({ result }) => result.intent === 'other');
    expect(others.length).toBeGreaterThan(0);
    expect(others.every(({ result }) => result.route === 'human')).toBe(true);
  });
});

describe('renderReply', () => {
  const fullContext: Required<ReplyContext> = {
    firstName: 'Ana',
    hostedInvoiceUrl: 'https://invoice.stripe.com/i/acct_1/test_inv',
    billingPortalUrl: 'https://billing.stripe.com/p/session/test_1',
    status: 'active',
    accessSentence: 'You have full access to the community.',
    loginUrl: 'https://community.example.com/login',
    cancelPath: 'https://community.example.com/account/billing',
  };

  it.each(Object.keys(REPLY_TEMPLATES) as AutoRepliedIntent[])(
    'renders the %s reply with every placeholder filled',
    (intent) => {
      const text = renderReply(intent, fullContext);
      expect(text).not.toMatch(/\{\{|\}\}/);
      expect(text.startsWith('Hi Ana,')).toBe(true);
      for (const name of requiredPlaceholders(intent)) {
        expect(PLACEHOLDERS).toContain(name);
        expect(text).toContain(fullContext[name as keyof ReplyContext]);
      }
    },
  );

  it('names every missing placeholder when a required value is absent', () => {
    const render = () => renderReply('invoice_receipt', { firstName: 'Ana', billingPortalUrl: null });
    expect(render).toThrow(MissingPlaceholderError);
    expect(render).toThrow(ReplyTemplateError);
    expect(render).toThrow('no value for {{hostedInvoiceUrl}}, {{billingPortalUrl}}');
    // The caller reads `missing` to log why it fell back to a human.
    expect(render).toThrow(expect.objectContaining({ missing: ['hostedInvoiceUrl', 'billingPortalUrl'] }));
  });

  it('treats an empty or blank value as missing', () => {
    expect(() => renderReply('account_access', { loginUrl: '  ' })).toThrow(MissingPlaceholderError);
  });

  it('uses the fallback of an optional placeholder', () => {
    const text = renderReply('account_access', { loginUrl: fullContext.loginUrl });
    expect(text.startsWith('Hi there,')).toBe(true);
  });

  it('refuses to render a reply for other', () => {
    expect(() => renderReply('other', fullContext)).toThrow(ReplyTemplateError);
  });

  it('words the status and access sentence for the membership status reply', () => {
    const text = renderReply('membership_status', describeMembership({ status: 'past_due', allowed: false }));
    expect(text).toContain('Your membership is on hold because a payment did not go through.');
    expect(text).toContain('Access comes back as soon as the payment goes through');
  });
});
