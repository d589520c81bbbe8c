-- Every verified Stripe event is kept, and what memberops needs to hand it off again is kept with it.
-- outcome gains set_aside (verified but unreadable, or a hand-off Temporal refused for good): outcome_detail says why.
-- member_event is the compact event the member workflow receives (never the full body), so that events verified but
-- not handed off (outcome received or failed) can be re-driven by memberops itself after Stripe stops retrying.
ALTER TABLE stripe_events
  ADD COLUMN member_event jsonb,
  ADD COLUMN handoff_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN set_aside_at timestamptz;
CREATE INDEX stripe_events_pending_handoff_idx ON stripe_events (last_received_at)
  WHERE outcome IN ('received', 'failed') AND member_event IS NOT NULL;
