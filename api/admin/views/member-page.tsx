/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** GET /admin/members/:id: everything about one member on one screen, and the actions that go through their workflow. */
import type { ComponentChildren } from 'preact';
import type { MemberDetails } from '../console-store';
import { Layout, StatusBadge, Time, type Frame } from './layout';

export interface MemberLinks {
  stripe: string;
  intercom: string | null;
  temporal: string | null;
  workflowId: string;
}

export interface Flash {
  kind: string;
  result: 'ok' | 'rejected' | 'failed';
  message: string;
}

const dash = <span class="muted">—</span>;
const or = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? dash : String(v));

function ActionForm(props: { cus: string; kind: string; csrf: string; label: string; children?: ComponentChildren }) {
  return (
    <form method="post" action={`/admin/members/${encodeURIComponent(props.cus)}/actions/${props.kind}`} class="inline">
      <input type="hidden" name="_csrf" value={props.csrf} />
      {props.children}
      <button type="submit">{props.label}</button>
    </form>
  );
}

function Profile({ d, links }: { d: MemberDetails; links: MemberLinks }) {
  const m = d.member;
  return (
    <section data-testid="profile">
      <h2>Profile</h2>
      <dl>
        <dt>Email</dt>
        <dd data-testid="email">{or(m.email)}</dd>
        <dt>App user id</dt>
        <dd data-testid="app-user-id">{or(m.app_user_id)}</dd>
        <dt>Stripe customer</dt>
        <dd>
          <code>{m.customer_id}</code> · <a href={links.stripe}>Stripe Dashboard</a>
        </dd>
        <dt>Intercom contact</dt>
        <dd>
          {links.intercom ? <a href={links.intercom}>{m.crm_contact_id}</a> : or(m.crm_contact_id ?? d.crm?.contactId)}
        </dd>
        <dt>Workflow</dt>
        <dd>
          {links.temporal ? (
            <a href={links.temporal} data-testid="temporal-link">
              {links.workflowId} in the Temporal UI
            </a>
          ) : (
            <code>{links.workflowId}</code>
          )}
        </dd>
      </dl>
    </section>
  );
}

function Status({ d }: { d: MemberDetails }) {
  const m = d.member;
  return (
    <section data-testid="status">
      <h2>Status and access</h2>
      <dl>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={m.status} /> since <Time at={d.transitions[0]?.at ?? m.state_updated_at} />
        </dd>
        <dt>Access</dt>
        <dd data-testid="access">{m.allowed ? 'allowed' : 'denied'}</dd>
        <dt>Reason</dt>
        <dd data-testid="reason">{m.reason}</dd>
        <dt>Subscription</dt>
        <dd>
          {or(m.subscription_id)} {m.subscription_status ? `(${m.subscription_status})` : ''}
          {m.cancel_at_period_end ? ' · cancels at period end' : ''}
        </dd>
        <dt>Period ends</dt>
        <dd>
          <Time at={m.current_period_end} />
        </dd>
        <dt>Trial ends</dt>
        <dd>
          <Time at={m.trial_end} />
        </dd>
        <dt>Disputed</dt>
        <dd>{m.disputed ? 'yes' : 'no'}</dd>
        <dt>Version</dt>
        <dd>
          {m.version} · updated <Time at={m.state_updated_at} />
        </dd>
      </dl>
    </section>
  );
}

function Dunning({ d }: { d: MemberDetails }) {
  const x = d.dunning;
  return (
    <section data-testid="dunning">
      <h2>Dunning</h2>
      {!x ? (
        <p class="muted">No dunning cycle running.</p>
      ) : (
        <dl>
          <dt>Cycle</dt>
          <dd>
            #{x.cycle}, started <Time at={x.cycleStartedAt} />
          </dd>
          <dt>Failure</dt>
          <dd>{or(x.failureReason)}</dd>
          <dt>Grace ends</dt>
          <dd data-testid="grace-ends">
            <Time at={x.graceEndsAt} />
          </dd>
          <dt>Reminders sent</dt>
          <dd data-testid="reminders-sent">{x.remindersSent}</dd>
          <dt>Reminders due</dt>
          <dd>
            {x.pendingReminders.length === 0
              ? dash
              : x.pendingReminders.map((r, i) => (
                  <>
                    {i > 0 ? ', ' : ''}
                    <Time at={r} />
                  </>
                ))}
          </dd>
          <dt>Final action</dt>
          <dd>
            {x.policy.finalAction === 'cancel_in_stripe' ? 'cancel in Stripe' : 'mark canceled'} at{' '}
            <span data-testid="cancels-at">
              <Time at={x.cancelsAt} />
            </span>
          </dd>
          <dt>Invoice</dt>
          <dd>
            {x.hostedInvoiceUrl ? <a href={x.hostedInvoiceUrl}>{x.invoiceId ?? 'hosted invoice'}</a> : or(x.invoiceId)}
          </dd>
        </dl>
      )}
    </section>
  );
}

function Actions({ d, csrf, maxExtension }: { d: MemberDetails; csrf: string; maxExtension: string }) {
  const cus = d.member.customer_id;
  return (
    <section data-testid="actions">
      <h2>Actions</h2>
      <ActionForm cus={cus} kind="extend_grace" csrf={csrf} label="Extend grace period">
        <label>
          by <input name="extend_by" value="2 days" size={9} required />
        </label>
        <label>
          reason <input name="reason" size={24} required />
        </label>
        <span class="muted">at most {maxExtension}</span>
      </ActionForm>
      <ActionForm cus={cus} kind="resend_payment_link" csrf={csrf} label="Resend payment link now" />
      <ActionForm cus={cus} kind="retry_crm_sync" csrf={csrf} label="Retry CRM sync now" />
      <ActionForm cus={cus} kind="access_override" csrf={csrf} label="Set access override">
        <select name="mode">
          <option value="grant">grant access</option>
          <option value="revoke">revoke access</option>
          <option value="clear">remove the override</option>
        </select>
        <label>
          for <input name="for" value="1 day" size={9} />
        </label>
        <label>
          reason <input name="reason" size={24} />
        </label>
      </ActionForm>
      <ActionForm cus={cus} kind="note" csrf={csrf} label="Add note">
        <textarea name="text" rows={1} cols={40} required />
      </ActionForm>
    </section>
  );
}

function Transitions({ d }: { d: MemberDetails }) {
  return (
    <section data-testid="transitions">
      <h2>
        Transitions{' '}
        <span class="muted">
          ({d.transitionTotal}
          {d.transitionTotal > d.transitions.length ? `, newest ${d.transitions.length}` : ''})
        </span>
      </h2>
      <table>
        <thead>
          <tr>
            <th>At</th>
            <th>From → to</th>
            <th>Cause</th>
          </tr>
        </thead>
        <tbody>
          {d.transitions.map((t) => (
            <tr>
              <td>
                <Time at={t.at} />
              </td>
              <td>
                {t.from} → <StatusBadge status={t.to} />
              </td>
              <td>
                {t.cause.kind === 'event' ? (
                  <>
                    {t.cause.eventType} <code class="muted">{t.cause.eventId}</code>
                  </>
                ) : t.cause.kind === 'snapshot' ? (
                  <>
                    Stripe snapshot <code class="muted">{t.cause.snapshotId}</code>
                  </>
                ) : (
                  `timer ${t.cause.timer}`
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Events({ d }: { d: MemberDetails }) {
  return (
    <section data-testid="events">
      <h2>
        Stripe events{' '}
        <span class="muted">
          ({d.eventTotal}
          {d.eventTotal > d.events.length ? `, newest ${d.events.length}` : ''})
        </span>
      </h2>
      <table>
        <thead>
          <tr>
            <th>Created</th>
            <th>Type</th>
            <th>Processing</th>
            <th>Deliveries</th>
            <th>Last received</th>
          </tr>
        </thead>
        <tbody>
          {d.events.map((e) => (
            <tr>
              <td>
                <Time at={e.created_at} />
              </td>
              <td>
                {e.type}
                <br />
                <code class="muted">{e.id}</code>
              </td>
              <td>
                {e.outcome}
                {e.outcome_detail ? <span class="muted"> ({e.outcome_detail})</span> : null}
              </td>
              <td>{e.delivery_count}</td>
              <td>
                <Time at={e.last_received_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Notices({ d }: { d: MemberDetails }) {
  return (
    <section data-testid="notices">
      <h2>Notices</h2>
      {d.notices.length === 0 ? <p class="muted">None sent.</p> : null}
      <table>
        <tbody>
          {d.notices.map((n) => (
            <tr>
              <td>
                <Time at={n.created_at} />
              </td>
              <td>{n.kind}</td>
              <td>{n.channel}</td>
              <td>
                <span class={`badge ${n.status === 'sent' ? 'r-ok' : 'r-rejected'}`}>{n.status}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Crm({ d }: { d: MemberDetails }) {
  const c = d.crm;
  return (
    <section data-testid="crm">
      <h2>CRM sync</h2>
      {!c ? (
        <p class="muted">Never synced (CRM sync off, or not reached yet).</p>
      ) : (
        <dl>
          <dt>Contact</dt>
          <dd>{or(c.contactId)}</dd>
          <dt>Last outcome</dt>
          <dd data-testid="crm-outcome">
            {c.lastOutcome} at <Time at={c.lastAttemptAt} />
            {c.lastError ? <span class="muted"> ({c.lastError})</span> : null}
          </dd>
          <dt>Synced</dt>
          <dd>
            <Time at={c.syncedAt} />
          </dd>
          <dt>Lag</dt>
          <dd>{c.lagMs === null ? dash : `${c.lagMs} ms`}</dd>
          <dt>Failed calls</dt>
          <dd>
            {d.crmFailures.count}
            {d.crmFailures.lastError ? <span class="muted"> (last: {d.crmFailures.lastError})</span> : null}
          </dd>
          <dt>Tags</dt>
          <dd data-testid="crm-tags">
            {d.crmTags.length === 0 ? dash : d.crmTags.map((t) => `${t.op === 'add' ? '+' : '−'}${t.tag}`).join(' ')}
          </dd>
        </dl>
      )}
    </section>
  );
}

function Support({ d }: { d: MemberDetails }) {
  return (
    <section data-testid="support">
      <h2>Support</h2>
      {d.support.length === 0 ? <p class="muted">No support requests.</p> : null}
      <table>
        <tbody>
          {[...d.support].reverse().map((s) => (
            <tr>
              <td>
                <Time at={s.at} />
                <br />
                <span class="muted">{s.source}</span>
              </td>
              <td>
                <strong>{s.intent}</strong> → {s.route} ({Math.round(s.confidence * 100)}%)
                <br />
                <span class="muted">{s.matched.map((r) => `${r.rule} ${r.weight}`).join(', ') || s.reason}</span>
              </td>
              <td>
                {s.outcome}
                {s.reply ? (
                  <div class="muted">{s.reply.length > 240 ? `${s.reply.slice(0, 240)}…` : s.reply}</div>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Audit({ d }: { d: MemberDetails }) {
  return (
    <section data-testid="audit">
      <h2>Operator actions</h2>
      {d.actions.length === 0 ? <p class="muted">None yet.</p> : null}
      <table>
        <tbody>
          {d.actions.map((a) => (
            <tr>
              <td>
                <Time at={a.at} />
              </td>
              <td>{a.actor}</td>
              <td>{a.kind}</td>
              <td class="muted">
                {Object.entries(a.input)
                  .map(([k, v]) => `${k}: ${String(v)}`)
                  .join(' · ')}
              </td>
              <td>
                <span class={`badge r-${a.result}`}>{a.result}</span> {a.message}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function MemberPage(
  props: Frame & { d: MemberDetails; links: MemberLinks; flash?: Flash; maxExtension: string },
) {
  const { d } = props;
  return (
    <Layout title={d.member.email ?? d.member.customer_id} email={props.email} csrfToken={props.csrfToken}>
      <p>
        <a href="/admin">← Members</a>
      </p>
      <h1>
        {d.member.email ?? d.member.customer_id} <StatusBadge status={d.member.status} />
      </h1>
      {props.flash ? (
        <p class={`flash ${props.flash.result}`} role="status" data-testid="flash">
          {props.flash.kind}: {props.flash.message}
        </p>
      ) : null}
      <div class="grid">
        <Profile d={d} links={props.links} />
        <Status d={d} />
        <Dunning d={d} />
        <Actions d={d} csrf={props.csrfToken} maxExtension={props.maxExtension} />
        <Crm d={d} />
        <Notices d={d} />
      </div>
      <p />
      <Transitions d={d} />
      <Events d={d} />
      <Support d={d} />
      <Audit d={d} />
    </Layout>
  );
}
