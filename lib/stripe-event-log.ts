/**
 * The `stripe_events` bookkeeping: one row per verified event, kept before anything can fail, with the compact event the
 * member workflow needs (never the full body) so that memberops can hand it off again itself.
 * Outcomes: received → handed_off (→ applied, written by the projection), or ignored_unhandled / unlinked / set_aside;
 * failed while a hand-off waits for Temporal.
 */
import type { Db } from './db';
import type { MemberEvent } from '../workflows/messages';
import { customerOf, objectIdOf, type ReadEvent, type StripeEventIdentity } from './stripe-events';

/** Outcomes after which a redelivery changes nothing. */
const SETTLED = new Set(['handed_off', 'applied', 'set_aside', 'ignored_unhandled', 'unlinked']);

export interface RecordedEvent {
  outcome: string;
  customerId: string | null;
  detail: string | null;
  /** Whether an earlier delivery already settled the event (handed off, set aside, ignored). */
  settled: boolean;
}

/**
 * Records a verified event with what reading it gave: the member event to hand off, or the reason it is set aside.
 * A redelivery only counts; it never overwrites what the first delivery recorded, except to fill in a member event a
 * first delivery could not read (a fixed reader).
 */
export async function recordStripeEvent(db: Db, event: StripeEventIdentity, read: ReadEvent): Promise<RecordedEvent> {
  const memberEvent = read.kind === 'member' ? read.event : null;
  const setAside = read.kind === 'unreadable' ? read.reason : null;
  const [row] = await db.query<{ outcome: string; customer_id: string | null; outcome_detail: string | null; inserted: boolean }>(
    `INSERT INTO stripe_events (id, type, created_at, customer_id, object_id, api_version, livemode, member_event,
                                outcome, outcome_detail, set_aside_at)
       VALUES ($1, $2, to_timestamp($3), $4, $5, $6, $7, $8::jsonb,
               CASE WHEN $9::text IS NULL THEN 'received' ELSE 'set_aside' END, $9::text,
               CASE WHEN $9::text IS NULL THEN NULL ELSE now() END)
       ON CONFLICT (id) DO UPDATE SET delivery_count = stripe_events.delivery_count + 1, last_received_at = now(),
         member_event = COALESCE(stripe_events.member_event, EXCLUDED.member_event)
       RETURNING outcome, customer_id, outcome_detail, (xmax = 0) AS inserted`,
    [
      event.id,
      event.type,
      event.created,
      memberEvent?.customerId ?? customerOf(event),
      objectIdOf(event),
      event.api_version ?? null,
      event.livemode ?? false,
      memberEvent ? JSON.stringify(memberEvent) : null,
      setAside,
    ],
  );
  const outcome = row?.outcome ?? 'received';
  return {
    outcome,
    customerId: row?.customer_id ?? null,
    detail: row?.outcome_detail ?? null,
    settled: row?.inserted === false && SETTLED.has(outcome),
  };
}

export async function setEventOutcome(db: Db, eventId: string, outcome: string, detail: string | null): Promise<void> {
  await db.query('UPDATE stripe_events SET outcome = $2, outcome_detail = $3 WHERE id = $1', [eventId, outcome, detail]);
}

/** Stores the member event a charge lookup produced, so that a re-drive does not need the lookup again. */
export async function setMemberEvent(db: Db, event: MemberEvent): Promise<void> {
  await db.query('UPDATE stripe_events SET member_event = $2::jsonb, customer_id = $3 WHERE id = $1', [
    event.eventId,
    JSON.stringify(event),
    event.customerId,
  ]);
}

/** The hand-off happened; an event the projection already marked applied stays applied. */
export async function markHandedOff(db: Db, event: MemberEvent): Promise<void> {
  await db.query(
    `UPDATE stripe_events SET outcome = 'handed_off', handed_off_at = COALESCE(handed_off_at, now()), customer_id = $2,
            outcome_detail = NULL, handoff_attempts = handoff_attempts + 1
      WHERE id = $1 AND outcome <> 'applied'`,
    [event.eventId, event.customerId],
  );
}

/** The hand-off could not happen now; the event waits for a redelivery or the re-drive sweep. */
export async function markHandOffFailed(db: Db, eventId: string, detail: string): Promise<void> {
  await db.query(
    `UPDATE stripe_events SET outcome = 'failed', outcome_detail = $2, handoff_attempts = handoff_attempts + 1
      WHERE id = $1 AND outcome IN ('received', 'failed')`,
    [eventId, detail],
  );
}

/** Set aside for good (Temporal refused the hand-off as invalid): kept with its reason for the founder to look at. */
export async function markSetAside(db: Db, eventId: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE stripe_events SET outcome = 'set_aside', outcome_detail = $2, set_aside_at = now()
      WHERE id = $1 AND outcome IN ('received', 'failed')`,
    [eventId, reason],
  );
}

/** One founder alert per set-aside event (the alert key is the event id). */
export async function alertSetAside(
  db: Db,
  event: { id: string; type: string },
  customerId: string | null,
  reason: string,
): Promise<void> {
  await db.query(
    `INSERT INTO alerts (key, customer_id, kind, message) VALUES ($1, $2, 'stripe_event_set_aside', $3)
       ON CONFLICT (key) DO NOTHING`,
    [`stripe-event-set-aside:${event.id}`, customerId, `Stripe event ${event.id} (${event.type}) set aside: ${reason}`],
  );
}

/** Events verified and readable but not handed off, quiet for at least `olderThanMs`, oldest first. */
export async function pendingHandOffs(db: Db, olderThanMs: number, limit: number): Promise<MemberEvent[]> {
  const rows = await db.query<{ member_event: MemberEvent }>(
    `SELECT member_event FROM stripe_events
      WHERE outcome IN ('received', 'failed') AND member_event IS NOT NULL
        AND last_received_at < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY created_at, id LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows.map((r) => r.member_event);
}
