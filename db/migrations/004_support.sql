-- Support automation: every support request, how it was classified and routed, and what became of it.
CREATE TABLE support_requests (
  id              uuid PRIMARY KEY,
  source          text NOT NULL CHECK (source IN ('api', 'intercom')),
  -- Intercom: the conversation and part (a redelivered webhook finds its request); API: a fresh uuid.
  dedupe_key      text NOT NULL UNIQUE,
  customer_id     text,
  email           text,
  conversation_id text,
  contact_id      text,
  subject         text,
  -- At most 2,000 characters of the message: enough to read the request, not a full copy (bodies carry PII).
  body_excerpt    text NOT NULL,
  intent          text NOT NULL,
  route           text NOT NULL CHECK (route IN ('auto_reply', 'billing_flow', 'human')),
  confidence      real NOT NULL,
  -- Every classifier rule that fired, and the decision in words: how the request was routed.
  matched         jsonb NOT NULL,
  reason          text NOT NULL,
  reply           text,
  -- pending | replied | answered_in_response | escalated
  outcome         text NOT NULL DEFAULT 'pending',
  -- What each step of the support workflow did (reply, hand-off, tag, assign, alert), failures included.
  steps           jsonb,
  -- Set once the automatic reply went out, so a retried activity never sends it twice.
  reply_sent_at   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- When the support workflow was started; NULL means a redelivery must start it.
  handed_off_at   timestamptz,
  completed_at    timestamptz
);
CREATE INDEX support_requests_customer_idx ON support_requests (customer_id, created_at);
CREATE INDEX support_requests_conversation_idx ON support_requests (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX support_requests_email_idx ON support_requests (lower(email), created_at) WHERE email IS NOT NULL;
