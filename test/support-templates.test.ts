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

const activeMember = { status: 'active', allowed: true } as const;

describe('renderReply', () => {
  const fullContext: Required<ReplyContext> = {
    firstName: 'Ana',
    hostedInvoiceUrl: 'https://invoice.stripe.com/i/acct_1/test_inv',
    billingPortalUrl: 'https://billing.stripe.com/p/session/test_1',
    status: 'active',
    accessSentence: 'You have full access to the community.',
    renewalSentence: 'It renews automatically on 3 January 2027.',
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
    const text = renderReply('account_access', {
      loginUrl: fullContext.loginUrl,
      ...describeMembership(activeMember),
    });
    expect(text.startsWith('Hi there,')).toBe(true);
  });

  it('tells a member who cannot sign in their actual access state, from the template', () => {
    expect(requiredPlaceholders('account_access')).toEqual(expect.arrayContaining(['status', 'accessSentence']));
    const text = renderReply('account_access', {
      loginUrl: fullContext.loginUrl,
      ...describeMembership({ status: 'past_due', allowed: false }),
    });
    expect(text).toContain('Your membership is on hold because a payment did not go through.');
    expect(text).toContain('Access comes back as soon as the payment goes through');
  });

  it('refuses to render a reply for other', () => {
    expect(() => renderReply('other', fullContext)).toThrow(ReplyTemplateError);
  });

  it('gives the date the membership renews, or ends instead, from the dates Stripe last sent', () => {
    const periodEnd = new Date('2027-01-03T09:30:00Z');
    const renders = (facts: Parameters<typeof describeMembership>[0]) =>
      renderReply('membership_status', describeMembership(facts));
    expect(renders({ ...activeMember, currentPeriodEnd: periodEnd })).toContain(
      'Your membership is active. You have full access to the community. It renews automatically on 3 January 2027.',
    );
    expect(renders({ ...activeMember, currentPeriodEnd: periodEnd, cancelAtPeriodEnd: true })).toContain(
      'It is set to end on 3 January 2027 and will not renew; you keep access until then.',
    );
    expect(
      renders({
        status: 'trialing',
        allowed: true,
        trialEnd: new Date('2027-01-14T23:59:00Z'),
        currentPeriodEnd: periodEnd,
      }),
    ).toContain(
      'Your free trial ends on 14 January 2027; unless you cancel before then, it turns into a paid membership',
    );
  });

  it.each([
    ['no date known', { ...activeMember }],
    [
      'a payment that failed',
      { status: 'past_due', allowed: false, currentPeriodEnd: new Date('2027-01-03T00:00:00Z') },
    ],
    [
      'a membership that ended',
      { status: 'canceled', allowed: false, currentPeriodEnd: new Date('2027-01-03T00:00:00Z') },
    ],
  ] as const)('gives no date for %s, and leaves no gap behind', (_why, facts) => {
    const text = renderReply('membership_status', describeMembership(facts));
    expect(text).not.toMatch(/renews|set to end|trial ends/);
    expect(text).not.toMatch(/[ \t]$/m);
  });

  it('words the status and access sentence for the membership status reply', () => {
    const text = renderReply('membership_status', describeMembership({ status: 'past_due', allowed: false }));
    expect(text).toContain('Your membership is on hold because a payment did not go through.');
    expect(text).toContain('Access comes back as soon as the payment goes through');
  });
});
