-- One row per reconciliation run: the window of Stripe events it listed, what webhooks had missed, and drift repaired.
CREATE TABLE reconcile_runs (
  id              bigserial PRIMARY KEY,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  -- Events created in [window_start, window_end] were listed; the next run starts from window_end.
  window_start    timestamptz NOT NULL,
  window_end      timestamptz NOT NULL,
  events_listed   integer NOT NULL DEFAULT 0,
  missed_events   integer NOT NULL DEFAULT 0,
  members_checked integer NOT NULL DEFAULT 0,
  drift_repaired  integer NOT NULL DEFAULT 0,
  -- [{ customerId, stripeStatus, canonicalStatus }] for each member repaired; event ids applied late.
  drift           jsonb NOT NULL DEFAULT '[]',
  missed          jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX reconcile_runs_window_idx ON reconcile_runs (window_end DESC);
