/** The console's pages escape whatever members, Stripe or Intercom put in a field: no markup gets through. */
import type { MemberList } from '../api/admin/console-store';
import { renderPage } from '../api/admin/views/layout';
import { MembersListPage } from '../api/admin/views/members-list';
import { OperationsPage } from '../api/admin/views/operations-page';

const HOSTILE = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;

describe('console pages', () => {
  it('escape hostile values in text and attributes', () => {
    const list: MemberList = {
      counts: { trialing: 0, active: 1, grace_period: 0, past_due: 0, canceled: 0, refunded: 0, disputed: 0 },
      members: [
        {
          customer_id: 'cus_x',
          email: HOSTILE,
          app_user_id: HOSTILE,
          status: 'active',
          allowed: true,
          disputed: false,
          grace_ends_at: null,
          state_updated_at: null,
        },
      ],
      total: 1,
    };
    const html = renderPage(MembersListPage({ email: HOSTILE, csrfToken: HOSTILE, list, q: HOSTILE, page: 1 }));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script>alert(1)&lt;/script>');
    expect(html).toContain('value="&lt;script>alert(1)&lt;/script>&quot;>&lt;img src=x onerror=alert(2)>"');
  });

  it('show why a backfill failed, escaped, and no refresh once it stopped', () => {
    const html = renderPage(
      OperationsPage({
        email: 'founder@community.test',
        csrfToken: 'tok',
        backfill: { status: 'failed', progress: null, failure: `STRIPE_SECRET_KEY is not set ${HOSTILE}` },
        runs: [],
      }),
    );
    expect(html).toContain('STRIPE_SECRET_KEY is not set &lt;script>');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('http-equiv="refresh"');
    const running = renderPage(
      OperationsPage({
        email: 'f@c.test',
        csrfToken: 'tok',
        backfill: { status: 'running', progress: null },
        runs: [],
      }),
    );
    expect(running).toContain('<meta http-equiv="refresh" content="2"/>');
  });
});
