/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** GET /admin: counts by status, search, filters and one page of members. */
import { COUNTED_STATUSES, PAGE_SIZE, type MemberList } from '../console-store';
import { Layout, StatusBadge, Time, type Frame } from './layout';

const FILTER_LABELS: Record<string, string> = {
  in_dunning: 'In dunning',
  crm_failing: 'CRM out of sync or failing',
  open_support: 'Open support request',
  event_set_aside: 'Stripe event set aside',
};

const listUrl = (q: string | undefined, status: string | undefined, page = 1): string => {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (status) p.set('status', status);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `/admin?${s}` : '/admin';
};

export function MembersListPage(props: Frame & { list: MemberList; q?: string; status?: string; page: number }) {
  const { list, q, status, page } = props;
  const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
  return (
    <Layout title="Members" email={props.email} csrfToken={props.csrfToken}>
      <h1>Members</h1>
      <p>
        <a href="/admin/operations" data-testid="operations-link">
          Operations: backfill from Stripe, reconciliation runs
        </a>
      </p>
      <ul class="counts" data-testid="counts">
        {COUNTED_STATUSES.map((s) => (
          <li>
            <a href={listUrl(q, s)} class={status === s ? 'on' : ''} data-status={s}>
              <b>{list.counts[s]}</b>
              {s}
            </a>
          </li>
        ))}
      </ul>
      <form method="get" action="/admin" class="inline" role="search">
        <label>
          Search <input type="search" name="q" value={q ?? ''} placeholder="email, cus_…, or app user id" size={34} />
        </label>
        <label>
          Show{' '}
          <select name="status">
            <option value="">everyone</option>
            {Object.entries(FILTER_LABELS).map(([v, label]) => (
              <option value={v} selected={status === v}>
                {label}
              </option>
            ))}
            {COUNTED_STATUSES.map((s) => (
              <option value={s} selected={status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <p class="muted">
        {list.total} member{list.total === 1 ? '' : 's'}
        {q ? ` matching "${q}"` : ''}
        {status ? ` · ${FILTER_LABELS[status] ?? status}` : ''}
      </p>
      <section>
        <table data-testid="members">
          <thead>
            <tr>
              <th>Email</th>
              <th>Customer</th>
              <th>App user</th>
              <th>Status</th>
              <th>Access</th>
              <th>Grace ends</th>
              <th>Changed</th>
            </tr>
          </thead>
          <tbody>
            {list.members.map((m) => (
              <tr>
                <td>
                  <a href={`/admin/members/${encodeURIComponent(m.customer_id)}`}>{m.email ?? '(no email)'}</a>
                </td>
                <td>
                  <code>{m.customer_id}</code>
                </td>
                <td>{m.app_user_id ?? <span class="muted">—</span>}</td>
                <td>
                  <StatusBadge status={m.status} />
                  {m.disputed ? ' disputed' : ''}
                </td>
                <td>{m.allowed ? 'yes' : 'no'}</td>
                <td>
                  <Time at={m.status === 'grace_period' ? m.grace_ends_at : null} />
                </td>
                <td>
                  <Time at={m.state_updated_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.members.length === 0 ? <p class="muted">No member matches.</p> : null}
      </section>
      <nav class="pager">
        {page > 1 ? <a href={listUrl(q, status, page - 1)}>← Previous</a> : null}
        <span class="muted">
          Page {page} of {pages}
        </span>
        {page < pages ? <a href={listUrl(q, status, page + 1)}>Next →</a> : null}
      </nav>
    </Layout>
  );
}
