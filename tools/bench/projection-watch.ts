/**
 * Sees every projection write as it commits, without polling: a trigger on `memberships` in the bench's own scratch
 * database NOTIFYs `customer_id status`, and one LISTENing connection timestamps each notification on arrival.
 *
 * Polling GET /members/:id/access every 5 ms for hundreds of members at once would load the API it measures (while the
 * projection lags by seconds, 40 probes make 8,000 GETs a second); this costs one pg_notify per projection write.
 * NOTIFY is delivered at commit, the moment the row becomes visible to GET /members/:id/access.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import type { Db } from '../../lib/db';

const CHANNEL = 'bench_projection';

/** Installs the trigger; only ever on the bench's scratch database, which is dropped at the end of the run. */
export async function installProjectionTrigger(db: Db): Promise<void> {
  await db.query(
    `CREATE FUNCTION bench_notify_projection() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM pg_notify('${CHANNEL}', NEW.customer_id || ' ' || NEW.status);
       RETURN NULL;
     END $$`,
  );
  await db.query(
    `CREATE TRIGGER bench_notify_projection AFTER INSERT OR UPDATE ON memberships
     FOR EACH ROW EXECUTE FUNCTION bench_notify_projection()`,
  );
}

export interface LagProbe {
  customerId: string;
  status: string;
  /** performance.now() when the webhook was sent and when its ack arrived. */
  sentAt: number;
  ackAt: number;
}

export class ProjectionWatch {
  private readonly seen = new Map<string, Array<{ status: string; at: number }>>();

  private constructor(private readonly client: Client) {}

  static async start(url: string): Promise<ProjectionWatch> {
    const client = new Client({ connectionString: url });
    await client.connect();
    const watch = new ProjectionWatch(client);
    client.on('notification', (n) => {
      const at = performance.now();
      const [customerId, status] = (n.payload ?? '').split(' ');
      if (!customerId || !status) return;
      let list = watch.seen.get(customerId);
      if (!list) watch.seen.set(customerId, (list = []));
      list.push({ status, at });
    });
    client.on('error', () => undefined);
    await client.query(`LISTEN ${CHANNEL}`);
    return watch;
  }

  /**
   * ms from the ack to the first commit showing `status` after the send; 0 when the projection committed before the
   * ack reached the client (the worker can be that fast); undefined when it was never seen (before `beforeMs`, e.g.
   * the member's next event, whose own commit would otherwise be taken for this one's).
   */
  lag(p: LagProbe, beforeMs = Infinity): number | undefined {
    const hit = this.seen.get(p.customerId)?.find((s) => s.status === p.status && s.at >= p.sentAt && s.at < beforeMs);
    return hit === undefined ? undefined : Math.max(0, hit.at - p.ackAt);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
