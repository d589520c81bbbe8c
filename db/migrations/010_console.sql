-- The founder's console: the members list stays fast on 10,000+ members, and every operator action is audited.

-- Counts by status and the status filter.
CREATE INDEX memberships_status_idx ON memberships (status, state_updated_at DESC);
-- The list's order (most recently changed first), paginated.
CREATE INDEX memberships_updated_idx ON memberships (state_updated_at DESC NULLS LAST, customer_id);
-- Search by email prefix (`ada@` finds ada@example.com); the existing lower(email) index serves equality only.
CREATE INDEX memberships_email_prefix_idx ON memberships (lower(email) text_pattern_ops);
-- Filters "CRM out of sync or failing" and "open support request".
CREATE INDEX crm_sync_state_failing_idx ON crm_sync_state (customer_id) WHERE last_outcome <> 'ok';
CREATE INDEX support_requests_open_idx ON support_requests (customer_id) WHERE outcome IN ('pending', 'escalated');

-- Who did what to which member from the console, when, and what came of it (also in the workflow's history as an
-- Update, when the workflow accepted it).
CREATE TABLE operator_actions (
  id          uuid PRIMARY KEY,
  customer_id text NOT NULL,
  actor       text NOT NULL,
  kind        text NOT NULL,
  -- The action's input as the founder gave it (duration, mode, reason, note).
  input       jsonb NOT NULL,
  -- ok | rejected (a validator said no) | failed (Temporal unreachable, workflow gone)
  result      text NOT NULL CHECK (result IN ('ok', 'rejected', 'failed')),
  message     text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operator_actions_customer_idx ON operator_actions (customer_id, at DESC);
