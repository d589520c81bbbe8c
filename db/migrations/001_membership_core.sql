-- Every Stripe event we received, and what became of it. Never the full body.
CREATE TABLE stripe_events (
  id               text PRIMARY KEY,
  type             text NOT NULL,
  created_at       timestamptz NOT NULL,
  customer_id      text,
  object_id        text,
  api_version      text,
  livemode         boolean NOT NULL DEFAULT false,
  received_at      timestamptz NOT NULL DEFAULT now(),
  last_received_at timestamptz NOT NULL DEFAULT now(),
  delivery_count   integer NOT NULL DEFAULT 1,
  -- received | handed_off | ignored_unhandled | unlinked | failed
  outcome          text NOT NULL DEFAULT 'received',
  outcome_detail   text,
  handed_off_at    timestamptz
);
CREATE INDEX stripe_events_customer_idx ON stripe_events (customer_id, created_at);
CREATE INDEX stripe_events_object_idx ON stripe_events (object_id);

-- The projection of each member's workflow state. Written only by the projection activity, version-guarded.
CREATE TABLE memberships (
  customer_id          text PRIMARY KEY,
  app_user_id          text,
  email                text,
  status               text NOT NULL,
  allowed              boolean NOT NULL,
  reason               text NOT NULL,
  subscription_id      text,
  subscription_status  text,
  cancel_at_period_end boolean NOT NULL DEFAULT false,
  current_period_end   timestamptz,
  trial_end            timestamptz,
  disputed             boolean NOT NULL DEFAULT false,
  dunning              jsonb,
  crm_contact_id       text,
  version              bigint NOT NULL,
  state_updated_at     timestamptz,
  projected_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memberships_app_user_idx ON memberships (app_user_id);
CREATE INDEX memberships_email_idx ON memberships (lower(email));

CREATE TABLE membership_transitions (
  customer_id text NOT NULL,
  seq         integer NOT NULL,
  from_status text NOT NULL,
  to_status   text NOT NULL,
  at          timestamptz NOT NULL,
  cause       jsonb NOT NULL,
  PRIMARY KEY (customer_id, seq)
);

-- Member-facing messages: one row per idempotency key (member, cycle, step), so nothing is sent twice.
CREATE TABLE member_notices (
  key         text PRIMARY KEY,
  customer_id text NOT NULL,
  kind        text NOT NULL,
  channel     text NOT NULL,
  status      text NOT NULL, -- sending | sent
  detail      jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
CREATE INDEX member_notices_customer_idx ON member_notices (customer_id, created_at);

-- Founder-visible alerts (non-retryable failures that need a person).
CREATE TABLE alerts (
  id          bigserial PRIMARY KEY,
  key         text UNIQUE,
  customer_id text,
  kind        text NOT NULL,
  message     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
