/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** GET /admin/operations: the backfill (start button, progress) and the last reconciliation runs. */
import type { BackfillProgress } from '../../../workflows/backfill';
import { Layout, Time, type Frame } from './layout';

export interface BackfillView {
  /** Temporal's status of the latest run, lower case (running, completed, failed, …), or never_run / unavailable. */
  status: string;
  progress: BackfillProgress | null;
  /** Why the latest run failed. */
  failure?: string;
}

export interface ReconcileRunRow {
  id: string;
  started_at: Date;
  finished_at: Date | null;
  window_start: Date;
  window_end: Date;
  events_listed: number;
  missed_events: number;
  members_checked: number;
  drift_repaired: number;
}

export interface OperationsFlash {
  result: 'ok' | 'failed';
  message: string;
}

/** While a backfill runs the page reloads itself (no script: the CSP allows none). */
export const REFRESH_SECONDS = 2;

function BackfillSection({ backfill, csrfToken }: { backfill: BackfillView; csrfToken: string }) {
  const p = backfill.progress;
  const running = backfill.status === 'running';
  return (
    <section data-testid="backfill">
      <h2>Backfill from Stripe</h2>
      <p class="muted">
        Hands every Stripe customer to memberops as a snapshot of Stripe's current state: no notices for the past, and
        never behind a newer webhook. Running it again changes nothing; while one runs, starting attaches to it.
      </p>
      <form method="post" action="/admin/operations/backfill" class="inline">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <button type="submit" data-testid="start-backfill">
          {running ? 'Backfill running…' : 'Start backfill'}
        </button>
      </form>
      <dl>
        <dt>Status</dt>
        <dd data-testid="backfill-status">{p?.done ? 'done' : backfill.status.replace(/_/g, ' ')}</dd>
        {backfill.failure ? (
          <>
            <dt>Why</dt>
            <dd data-testid="backfill-failure">{backfill.failure}</dd>
          </>
        ) : null}
        {p ? (
          <>
            <dt>Started</dt>
            <dd>
              <Time at={p.startedAt} />
            </dd>
            <dt>Pages</dt>
            <dd data-testid="backfill-pages">{p.pages}</dd>
            <dt>Customers</dt>
            <dd data-testid="backfill-customers">{p.customers}</dd>
            <dt>Members created</dt>
            <dd data-testid="backfill-created">{p.created}</dd>
            <dt>Members updated</dt>
            <dd data-testid="backfill-updated">{p.updated}</dd>
            <dt>Errors (retried)</dt>
            <dd data-testid="backfill-errors">{p.errors}</dd>
            <dt>Finished</dt>
            <dd>
              <Time at={p.finishedAt} />
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}

function ReconcileSection({ runs }: { runs: ReconcileRunRow[] }) {
  return (
    <section>
      <h2>Reconciliation runs</h2>
      <p class="muted">
        Each run lists Stripe's events since the last one, applies those no webhook delivered, and repairs members whose
        status drifted from Stripe's.
      </p>
      <table data-testid="reconcile-runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Events since</th>
            <th>Events until</th>
            <th>Events listed</th>
            <th>Missed events applied</th>
            <th>Members checked</th>
            <th>Drift repaired</th>
            <th>Finished</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr data-run={r.id}>
              <td>{r.id}</td>
              <td>
                <Time at={r.window_start} />
              </td>
              <td>
                <Time at={r.window_end} />
              </td>
              <td>{r.events_listed}</td>
              <td class={r.missed_events > 0 ? 'warn' : ''} data-testid="missed">
                {r.missed_events}
              </td>
              <td>{r.members_checked}</td>
              <td class={r.drift_repaired > 0 ? 'warn' : ''} data-testid="drift">
                {r.drift_repaired}
              </td>
              <td>
                <Time at={r.finished_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs.length === 0 ? <p class="muted">No reconciliation run yet.</p> : null}
    </section>
  );
}

export function OperationsPage(
  props: Frame & { backfill: BackfillView; runs: ReconcileRunRow[]; flash?: OperationsFlash },
) {
  const { flash } = props;
  return (
    <Layout
      title="Operations"
      email={props.email}
      csrfToken={props.csrfToken}
      refreshSeconds={props.backfill.status === 'running' ? REFRESH_SECONDS : undefined}
    >
      <p>
        <a href="/admin">← Members</a>
      </p>
      <h1>Operations</h1>
      {flash ? (
        <p class={`flash ${flash.result}`} data-testid="flash" role="status">
          {flash.message}
        </p>
      ) : null}
      <BackfillSection backfill={props.backfill} csrfToken={props.csrfToken} />
      <ReconcileSection runs={props.runs} />
    </Layout>
  );
}
