/**
 * Compares the oracle with what memberops shows, for every member: the workflow (GET /members/:id?consistency=strong),
 * the projection (GET /members/:id, /access, the memberships row), notices (member_notices), the fake Intercom
 * (one contact, its attributes, tags and messages, each exactly once), and every delivered event in stripe_events.
 */
import { kitAuthHeaders } from '../testkit/api-credentials';
import type { FakeIntercom } from '../testkit/fakes/fake-intercom';
import type { Db } from '../../lib/db';
import type { ExpectedMember } from './oracle';
import type { MemberPlan, Plan } from './generator';
import type { DeliveryRecord } from './sender';

export type MismatchCategory =
  | 'status'
  | 'projection'
  | 'access'
  | 'transitions'
  | 'notices'
  | 'crm-contact'
  | 'crm-tags'
  | 'crm-tag-ops'
  | 'crm-messages'
  | 'lost-event'
  | 'wrong-status'
  | 'unexpected-signal'
  | 'duplicated-effect';

export interface Mismatch {
  customerId: string;
  category: MismatchCategory;
  detail: string;
}

interface ViewTransition {
  from: string;
  to: string;
  at: string;
  cause: { kind: string; eventId?: string; timer?: string };
}
interface MemberBody {
  status: string;
  allowed: boolean;
  disputed: boolean;
  version: number;
  transitions: ViewTransition[];
}

export interface CheckResult {
  at: number;
  members: number;
  mismatches: Mismatch[];
  byCategory: Record<string, number>;
  lostEvents: number;
  /** Events the member workflow applied (or memberops ignored) whose final stripe_events status says otherwise. */
  wrongStatuses: number;
  duplicatedEffects: number;
  /** Transitions whose workflow clock differs from the activation the oracle applied them in (its model was off). */
  timingViolations: number;
  /** A few of them, for the report. */
  timingSamples: string[];
  /** Redundant (idempotent) Intercom tag calls, e.g. a retry after a lost answer; not a duplicated effect. */
  redundantTagCalls: number;
  /** Actual transitions per member, for lag metrics. */
  transitions: Map<string, ViewTransition[]>;
}

export interface CheckTarget {
  apiUrl: string;
  db: Db;
  intercom: FakeIntercom | undefined;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: kitAuthHeaders, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const causeKey = (c: { kind: string; eventId?: string; timer?: string }): string =>
  c.kind === 'event' ? `event:${c.eventId}` : `timer:${c.timer}`;
const transitionKey = (t: {
  from: string;
  to: string;
  cause: { kind: string; eventId?: string; timer?: string };
}): string => `${t.from}>${t.to}@${causeKey(t.cause)}`;
const sameList = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const sorted = (a: string[]): string[] => [...a].sort();

export async function checkAll(
  plan: Plan,
  expected: Map<string, ExpectedMember>,
  records: DeliveryRecord[],
  target: CheckTarget,
): Promise<CheckResult> {
  const at = Date.now();
  const mismatches: Mismatch[] = [];
  const transitions = new Map<string, ViewTransition[]>();
  let timingViolations = 0;
  const timingSamples: string[] = [];
  let redundantTagCalls = 0;
  const add = (m: MemberPlan | string, category: MismatchCategory, detail: string): void => {
    const customerId = typeof m === 'string' ? m : m.customerId;
    mismatches.push({ customerId, category, detail });
  };
  const { db } = target;
  const rows = new Map(
    (
      await db.query<{ customer_id: string; status: string; allowed: boolean; disputed: boolean; version: string }>(
        'SELECT customer_id, status, allowed, disputed, version FROM memberships',
      )
    ).map((r) => [r.customer_id, r]),
  );
  const notices = new Map<string, Array<{ key: string; kind: string; status: string }>>();
  for (const n of await db.query<{ customer_id: string; key: string; kind: string; status: string }>(
    'SELECT customer_id, key, kind, status FROM member_notices',
  )) {
    notices.set(n.customer_id, [...(notices.get(n.customer_id) ?? []), n]);
  }
  const tagOps = new Map<string, string[]>();
  for (const t of await db.query<{ customer_id: string; key: string; tag: string; op: string }>(
    'SELECT customer_id, key, tag, op FROM crm_tag_ops',
  )) {
    tagOps.set(t.customer_id, [...(tagOps.get(t.customer_id) ?? []), `${t.key}|${t.op}|${t.tag}`]);
  }
  const events = new Map(
    (await db.query<{ id: string; outcome: string }>('SELECT id, outcome FROM stripe_events')).map((r) => [
      r.id,
      r.outcome,
    ]),
  );

  // Nothing lost: every acknowledged event is recorded, and every handled one reached the member's workflow.
  // Status truth: the final stripe_events status agrees with what became of the event (a workflow that received it
  // means handed_off; an unhandled type means ignored_unhandled).
  let lostEvents = 0;
  let wrongStatuses = 0;
  const seen = new Set<string>();
  const received = new Map([...expected.values()].map((e) => [e.customerId, new Set(e.received)]));
  for (const r of records) {
    if (r.ackedAt === undefined || seen.has(r.planned.eventId)) continue;
    seen.add(r.planned.eventId);
    const want = r.planned.handled ? 'handed_off' : 'ignored_unhandled';
    const got = events.get(r.planned.eventId);
    const reached = !r.planned.handled || received.get(r.planned.customerId)?.has(r.planned.eventId) === true;
    if (got === undefined || !reached) {
      lostEvents += 1;
      add(
        r.planned.customerId,
        'lost-event',
        got === undefined
          ? `${r.planned.type} ${r.planned.eventId}: acknowledged but missing from stripe_events`
          : `${r.planned.type} ${r.planned.eventId} acknowledged but never signaled to the workflow`,
      );
    } else if (got !== want) {
      wrongStatuses += 1;
      add(
        r.planned.customerId,
        'wrong-status',
        `${r.planned.type} ${r.planned.eventId}: stripe_events outcome ${got}, expected ${want}`,
      );
    }
  }
  for (const e of expected.values())
    for (const id of e.strangers) add(e.customerId, 'unexpected-signal', `signal ${id} is no event the generator sent`);

  const calls = target.intercom ? indexCalls(target.intercom) : undefined;

  await inBatches(plan.members, 8, async (m) => {
    const exp = expected.get(m.customerId);
    if (!exp) return;
    const id = encodeURIComponent(m.customerId);
    const [strongRes, eventualRes, accessRes] = await Promise.all([
      getJson(`${target.apiUrl}/members/${id}?consistency=strong`),
      getJson(`${target.apiUrl}/members/${id}`),
      getJson(`${target.apiUrl}/members/${id}/access`),
    ]);
    if (strongRes.status !== 200 || eventualRes.status !== 200) {
      add(m, 'status', `GET /members answered ${strongRes.status} (strong) / ${eventualRes.status} (projection)`);
      return;
    }
    const strong = strongRes.body as MemberBody;
    const eventual = eventualRes.body as MemberBody;
    const access = accessRes.body as { status: string; allowed: boolean };
    transitions.set(m.customerId, strong.transitions);
    if (strong.status !== exp.status || strong.allowed !== exp.allowed)
      add(m, 'status', `workflow ${strong.status}/${strong.allowed}, oracle ${exp.status}/${exp.allowed}`);
    if (strong.disputed !== exp.disputed)
      add(m, 'status', `workflow disputed=${strong.disputed}, oracle ${exp.disputed}`);
    const row = rows.get(m.customerId);
    if (!row) add(m, 'projection', 'no memberships row');
    else if (
      row.status !== strong.status ||
      row.allowed !== strong.allowed ||
      row.disputed !== strong.disputed ||
      Number(row.version) !== strong.version
    ) {
      add(
        m,
        'projection',
        `row ${row.status}/${row.allowed}/disputed=${row.disputed}/v${row.version}, workflow ${strong.status}/${strong.allowed}/disputed=${strong.disputed}/v${strong.version}`,
      );
    }
    if (eventual.status !== exp.status || eventual.allowed !== exp.allowed || eventual.version !== strong.version) {
      add(
        m,
        'projection',
        `GET /members/:id ${eventual.status}/${eventual.allowed}/v${eventual.version}, workflow v${strong.version}, oracle ${exp.status}`,
      );
    }
    if (access.status !== exp.status || access.allowed !== exp.allowed)
      add(m, 'access', `/access ${access.status}/${access.allowed}, oracle ${exp.status}/${exp.allowed}`);

    const want = exp.transitions.map(transitionKey);
    const got = strong.transitions.map(transitionKey);
    if (!sameList(want, got)) add(m, 'transitions', `workflow [${got.join(', ')}], oracle [${want.join(', ')}]`);
    else {
      strong.transitions.forEach((t, i) => {
        const w = exp.transitions[i]?.window;
        const at = Date.parse(t.at);
        if (w && (at < w.from || at > w.to)) {
          timingViolations += 1;
          if (timingSamples.length < 10) {
            timingSamples.push(
              `${m.customerId} #${i + 1} ${t.to}@${causeKey(t.cause)}: workflow ${t.at}, oracle ${new Date(w.from).toISOString()}..${new Date(w.to).toISOString()}`,
            );
          }
        }
      });
    }
    const projected = eventual.transitions.map(transitionKey);
    if (!sameList(projected, got))
      add(m, 'projection', `projected transitions [${projected.join(', ')}] differ from the workflow's`);

    const haveNotices = notices.get(m.customerId) ?? [];
    const wantKeys = sorted(exp.notices.map((n) => `${n.key}=${n.kind}`));
    const haveKeys = sorted(haveNotices.map((n) => `${n.key}=${n.kind}`));
    if (!sameList(wantKeys, haveKeys))
      add(m, 'notices', `member_notices [${haveKeys.join(', ')}], oracle [${wantKeys.join(', ')}]`);
    const unsent = haveNotices.filter((n) => n.status !== 'sent');
    if (unsent.length) add(m, 'notices', `not sent: ${unsent.map((n) => n.key).join(', ')}`);

    if (target.intercom && calls) {
      redundantTagCalls += checkIntercom(
        target.intercom,
        calls,
        m,
        exp,
        strong.status,
        tagOps.get(m.customerId) ?? [],
        add,
      );
    }
  });

  const byCategory: Record<string, number> = {};
  for (const mm of mismatches) byCategory[mm.category] = (byCategory[mm.category] ?? 0) + 1;
  return {
    at,
    members: plan.members.length,
    mismatches,
    byCategory,
    lostEvents,
    wrongStatuses,
    duplicatedEffects: byCategory['duplicated-effect'] ?? 0,
    timingViolations,
    timingSamples,
    redundantTagCalls,
    transitions,
  };
}

interface CallIndex {
  /** Successful contact creations by external_id and by email. */
  createdBy: Map<string, number>;
  /** Successful tag applications per contact path. */
  tagCalls: Map<string, number>;
}

function indexCalls(intercom: FakeIntercom): CallIndex {
  const createdBy = new Map<string, number>();
  const tagCalls = new Map<string, number>();
  const bump = (map: Map<string, number>, k: string): void => void map.set(k, (map.get(k) ?? 0) + 1);
  for (const c of intercom.calls) {
    if (c.status !== 200 || c.method !== 'POST') continue;
    if (c.path === '/contacts') {
      const b = c.body as { external_id?: string; email?: string };
      if (b.external_id) bump(createdBy, `x:${b.external_id}`);
      else if (b.email) bump(createdBy, `e:${b.email}`);
    } else if (/^\/contacts\/[^/]+\/tags$/.test(c.path)) bump(tagCalls, c.path);
  }
  return { createdBy, tagCalls };
}

/** One contact per member, with the right attributes and tags; each notice delivered as exactly one message. */
function checkIntercom(
  intercom: FakeIntercom,
  calls: CallIndex,
  m: MemberPlan,
  exp: ExpectedMember,
  status: string,
  ops: string[],
  add: (m: MemberPlan, c: MismatchCategory, d: string) => void,
): number {
  const created =
    [m.customerId, m.appUserId].reduce((n, x) => n + (x ? (calls.createdBy.get(`x:${x}`) ?? 0) : 0), 0) +
    (calls.createdBy.get(`e:${m.email}`) ?? 0);
  if (created > 1) add(m, 'duplicated-effect', `${created} Intercom contacts created`);
  const contact =
    (m.appUserId ? intercom.contactByExternalId(m.appUserId) : undefined) ?? intercom.contactByExternalId(m.customerId);
  const wantOps = sorted(exp.tagOps);
  const haveOps = sorted(ops);
  if (!sameList(wantOps, haveOps))
    add(m, 'crm-tag-ops', `crm_tag_ops [${haveOps.join(', ')}], oracle [${wantOps.join(', ')}]`);
  if (!contact) {
    if (exp.transitions.length > 0 || exp.notices.length > 0) add(m, 'crm-contact', 'no Intercom contact');
    return 0;
  }
  const attrs = contact.custom_attributes;
  if (
    attrs['membership_status'] !== status ||
    attrs['access'] !== exp.allowed ||
    attrs['stripe_customer_id'] !== m.customerId
  ) {
    add(
      m,
      'crm-contact',
      `attributes status=${String(attrs['membership_status'])} access=${String(attrs['access'])}, expected ${status}/${exp.allowed}`,
    );
  }
  const tags = sorted(intercom.tagsOf(contact.id));
  if (!sameList(tags, exp.tags)) add(m, 'crm-tags', `tags [${tags.join(', ')}], oracle [${exp.tags.join(', ')}]`);
  const subjects = sorted(intercom.messagesTo(contact.id).map((x) => x.subject ?? ''));
  const wantSubjects = sorted(exp.notices.map((n) => n.subject));
  if (!sameList(subjects, wantSubjects)) {
    const extra = subjects.length > wantSubjects.length;
    add(
      m,
      extra ? 'duplicated-effect' : 'crm-messages',
      `messages [${subjects.join(' | ')}], oracle [${wantSubjects.join(' | ')}]`,
    );
  }
  const tagCalls = calls.tagCalls.get(`/contacts/${contact.id}/tags`) ?? 0;
  const wantAdds = exp.tagOps.filter((o) => o.includes('|add|')).length;
  return Math.max(0, tagCalls - wantAdds);
}

/** Whether the members touched since `since` show the workflow's version in the projection (fault recovery). */
export async function projectionCaughtUp(
  apiUrl: string,
  records: DeliveryRecord[],
  since: number,
  sample = 40,
): Promise<boolean> {
  const touched = [
    ...new Set(records.filter((r) => (r.ackedAt ?? 0) >= since && r.planned.handled).map((r) => r.planned.customerId)),
  ].slice(0, sample);
  let ok = true;
  await inBatches(touched, 8, async (customerId) => {
    if (!ok) return;
    const id = encodeURIComponent(customerId);
    const [s, e] = await Promise.all([
      getJson(`${apiUrl}/members/${id}?consistency=strong`),
      getJson(`${apiUrl}/members/${id}`),
    ]);
    if (s.status !== 200 || e.status !== 200 || (s.body as MemberBody).version !== (e.body as MemberBody).version)
      ok = false;
  });
  return ok;
}
