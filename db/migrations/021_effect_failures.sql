-- Member effects (notices, CRM sync, Stripe) that gave up after their retry deadline or a non-retryable failure.
-- One row per effect key; the founder gets one alert per row (alerts.kind = 'effect_failed').
CREATE TABLE effect_failures (
  key         text PRIMARY KEY,
  customer_id text NOT NULL,
  lane        text NOT NULL,
  reason      text NOT NULL,
  failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX effect_failures_customer_idx ON effect_failures (customer_id, failed_at);
