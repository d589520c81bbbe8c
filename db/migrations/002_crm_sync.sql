-- CRM sync (Intercom): one contact per member, lifecycle tags exactly once, every outbound call logged.

-- The member's Intercom contact, so later syncs skip the lookup. The workflow keeps the id too (memberships.crm_contact_id).
CREATE TABLE crm_contacts (
  customer_id text PRIMARY KEY,
  contact_id  text NOT NULL,
  -- The contact's external_id as we last saw it: the app user id once known, else the Stripe customer id.
  external_id text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_contacts_contact_idx ON crm_contacts (contact_id);

-- Tag operations already applied, per sync key (`<customer>:t<seq>`): a retried activity skips what is done.
CREATE TABLE crm_tag_ops (
  key         text NOT NULL,
  tag         text NOT NULL,
  op          text NOT NULL CHECK (op IN ('add', 'remove')),
  customer_id text NOT NULL,
  contact_id  text NOT NULL,
  -- false when the tag was not on the contact, so no call was needed.
  called      boolean NOT NULL,
  request_id  text,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key, tag, op)
);
CREATE INDEX crm_tag_ops_customer_idx ON crm_tag_ops (customer_id, applied_at);

-- One row per outbound Intercom call. Never the token, never a request or response body.
CREATE TABLE crm_sync_log (
  id          bigserial PRIMARY KEY,
  customer_id text,
  -- The sync key, or NULL for calls outside a sync (member messages).
  key         text,
  operation   text NOT NULL,
  request_id  text,
  -- NULL when no answer came back (timeout, refused, reset).
  http_status integer,
  attempt     integer NOT NULL,
  duration_ms integer NOT NULL,
  -- ok (including answers the sync expects, e.g. 404 on lookup, 409 on create) | retry | failed
  outcome     text NOT NULL CHECK (outcome IN ('ok', 'retry', 'failed')),
  error       text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_sync_log_customer_idx ON crm_sync_log (customer_id, at);

-- The member's last sync: what GET /members/:id shows, and the measured lag.
CREATE TABLE crm_sync_state (
  customer_id     text PRIMARY KEY,
  contact_id      text,
  -- Last successful sync.
  synced_at       timestamptz,
  last_key        text,
  -- Outcome of the newest attempt: ok | retry | failed.
  last_outcome    text NOT NULL,
  last_attempt_at timestamptz NOT NULL,
  last_error      text,
  -- Webhook hand-off of the newest Stripe event to the first successful sync after it (the last one measured).
  lag_ms          integer,
  lag_event_at    timestamptz
);
