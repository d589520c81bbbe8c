/** What the soak measures besides correctness: lags, memory, and Temporal history per member. */
import type { Db } from '../../lib/db';
import type { CheckResult } from './checker';
import type { ScriptProcess } from '../testkit/children';
import type { MemberHistory } from './history';
import { percentiles, type SoakReport } from './report';
import type { DeliveryRecord } from './sender';

/**
 * Polls the memberships projection and keeps every (member, status) write it sees with its `projected_at`, so the lag
 * from a webhook to the row showing its effect can be measured afterwards.
 */
export class ProjectionSampler {
  readonly writes = new Map<string, Array<{ at: number; status: string; version: number }>>();
  private since = new Date(0);
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly db: Db) {}

  start(intervalMs = 250): void {
    this.timer = setInterval(() => void this.poll(), intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.poll();
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const rows = await this.db.query<{ customer_id: string; status: string; version: string; projected_at: Date }>(
        // Overlap by a second: rows committed late with an earlier now() are not missed (duplicates are skipped).
        `SELECT customer_id, status, version, projected_at FROM memberships WHERE projected_at > $1 ORDER BY projected_at`,
        [new Date(this.since.getTime() - 1000)],
      );
      for (const r of rows) {
        const list = this.writes.get(r.customer_id) ?? [];
        const version = Number(r.version);
        if (!list.some((w) => w.version === version))
          list.push({ at: r.projected_at.getTime(), status: r.status, version });
        this.writes.set(r.customer_id, list);
        if (r.projected_at > this.since) this.since = r.projected_at;
      }
    } catch {
      // A poll that fails (the soak's own connection) only loses resolution.
    } finally {
      this.busy = false;
    }
  }
}

export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly procs: ScriptProcess[]) {}
  start(intervalMs = 1000): void {
    this.timer = setInterval(() => {
      for (const p of this.procs) p.sampleRss();
    }, intervalMs);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Lags of event-caused transitions: to the workflow, to the projection row, to the CRM tag. */
export async function measureLags(
  db: Db,
  records: DeliveryRecord[],
  check: CheckResult | undefined,
  sampler: ProjectionSampler,
): Promise<{ workflow: number[]; projection: number[]; crmSync: number[] }> {
  const sentAt = new Map<string, number>();
  for (const r of records) {
    const ok = r.attempts.find((a) => a.status >= 200 && a.status < 300);
    if (ok && !sentAt.has(r.planned.eventId)) sentAt.set(r.planned.eventId, ok.startedAt);
  }
  const tagApplied = new Map(
    (await db.query<{ key: string; at: Date }>('SELECT key, min(applied_at) AS at FROM crm_tag_ops GROUP BY key')).map(
      (r) => [r.key, r.at.getTime()],
    ),
  );
  const workflow: number[] = [];
  const projection: number[] = [];
  const crmSync: number[] = [];
  for (const [customerId, transitions] of check?.transitions ?? []) {
    transitions.forEach((t, i) => {
      const eventId = t.cause.kind === 'event' ? t.cause.eventId : undefined;
      const start = eventId ? sentAt.get(eventId) : undefined;
      if (start === undefined) return;
      workflow.push(Math.max(0, Date.parse(t.at) - start));
      const seen = sampler.writes.get(customerId)?.find((w) => w.at >= start && w.status === t.to);
      if (seen) projection.push(seen.at - start);
      const tagged = tagApplied.get(`${customerId}:t${i + 1}`);
      if (tagged !== undefined) crmSync.push(Math.max(0, tagged - start));
    });
  }
  return { workflow, projection, crmSync };
}

/** History events per member workflow, summed over continue-as-new runs. */
export function historyStats(histories: Map<string, MemberHistory>): SoakReport['history'] {
  const values = [...histories.values()].map((h) => h.events);
  const runs = [...histories.values()].reduce((n, h) => n + h.runs, 0);
  return {
    workflows: histories.size,
    runs,
    continuedAsNew: runs - histories.size,
    eventsPerMember: percentiles(values),
    totalEvents: values.reduce((a, b) => a + b, 0),
  };
}
