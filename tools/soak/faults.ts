/**
 * Faults during the month, each optional and combinable: SIGKILL of the worker, a restart of the Temporal dev server
 * (its history is file-backed), a SIGKILL and restart of the API, PostgreSQL refusing connections, Intercom answering
 * 429/500. Each is recorded with when it began, when the faulty part was back, and when the system had caught up.
 */
import type { FaultKind, SoakOptions } from './options';
import type { Sender } from './sender';
import type { Stack } from './stack';

export interface FaultRecord {
  kind: FaultKind | 'worker-crash' | 'api-crash';
  plannedAt: number;
  startedAt: number;
  /** The faulty part is back (process polling / answering, connections accepted). */
  endedAt?: number;
  /** Back to normal: ready, the webhook backlog of the fault drained, touched members projected. */
  recoveredAt?: number;
  detail: string;
  error?: string;
}

export function scheduleFaults(o: SoakOptions, t0: number, monthEndMs: number): Array<{ kind: FaultKind; at: number }> {
  const span = monthEndMs - t0;
  return o.faults.map((kind, i) => ({ kind, at: t0 + (span * (i + 1)) / (o.faults.length + 1) }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FaultInjector {
  readonly records: FaultRecord[] = [];

  constructor(
    private readonly stack: Stack,
    private readonly sender: Sender,
    private readonly o: SoakOptions,
    /** Whether the members touched since `since` have their projection caught up with the workflow. */
    private readonly caughtUp: (since: number) => Promise<boolean>,
  ) {}

  async run(schedule: Array<{ kind: FaultKind; at: number }>, signal: AbortSignal): Promise<void> {
    for (const f of schedule) {
      while (Date.now() < f.at && !signal.aborted) await sleep(Math.min(500, f.at - Date.now()));
      if (signal.aborted) return;
      const rec: FaultRecord = { kind: f.kind, plannedAt: f.at, startedAt: Date.now(), detail: '' };
      this.records.push(rec);
      this.o.log(`fault: ${f.kind}`);
      try {
        await this.inject(rec);
        await this.waitRecovered(rec);
        this.o.log(
          `fault ${f.kind}: back after ${(rec.endedAt ?? 0) - rec.startedAt} ms, caught up after ${(rec.recoveredAt ?? 0) - rec.startedAt} ms`,
        );
      } catch (err) {
        rec.error = err instanceof Error ? err.message : String(err);
        this.o.log(`fault ${f.kind} failed: ${rec.error}`);
      }
    }
  }

  private async inject(rec: FaultRecord): Promise<void> {
    const s = this.stack;
    switch (rec.kind) {
      case 'worker-kill':
      case 'worker-crash': {
        const old = s.worker.pid;
        if (old !== undefined) await s.worker.stop('SIGKILL');
        const killedAt = Date.now();
        const pid = await s.startWorker();
        rec.endedAt = Date.now();
        rec.detail = `SIGKILL worker ${old ?? '(already gone)'}; new worker ${pid} polling after ${rec.endedAt - killedAt} ms`;
        return;
      }
      case 'temporal-restart': {
        await s.temporal.restart();
        const up = Date.now();
        // The matching service forgets pollers on restart: the worker is back once it polls again.
        const pid = s.worker.pid;
        const deadline = Date.now() + 120_000;
        for (;;) {
          const r = await s.client.workflowService
            .describeTaskQueue({ namespace: 'default', taskQueue: { name: s.taskQueue }, taskQueueType: 1 })
            .catch(() => undefined);
          if (r && (r.pollers ?? []).some((p) => pid !== undefined && p.identity?.startsWith(`${pid}@`))) break;
          if (Date.now() > deadline)
            throw new Error('the worker did not poll again within 120 s of the Temporal restart');
          await sleep(200);
        }
        rec.endedAt = Date.now();
        rec.detail = `Temporal dev server restarted (SIGTERM, same db file) in ${up - rec.startedAt} ms; worker polling again after ${rec.endedAt - up} ms`;
        return;
      }
      case 'api-restart':
      case 'api-crash': {
        const old = s.api.pid;
        if (old !== undefined) await s.api.stop('SIGKILL');
        await s.startApi();
        rec.endedAt = Date.now();
        rec.detail = `SIGKILL API ${old ?? '(already gone)'}; new API answering after ${rec.endedAt - rec.startedAt} ms`;
        return;
      }
      case 'pg-outage': {
        await s.proxy.refuse();
        await sleep(this.o.faultSeconds * 1000);
        await s.proxy.accept();
        rec.endedAt = Date.now();
        rec.detail = `PostgreSQL refused connections for ${rec.endedAt - rec.startedAt} ms (proxy closed, open connections broken)`;
        return;
      }
      case 'intercom-faults': {
        const intercom = s.intercom;
        if (!intercom) {
          rec.detail = 'skipped: CRM is off';
          rec.endedAt = Date.now();
          return;
        }
        const half = (this.o.faultSeconds * 1000) / 2;
        intercom.fail({ status: 429, times: 1_000_000, retryAfterSeconds: 2 });
        await sleep(half);
        intercom.clearFaults();
        intercom.fail({ status: 500, times: 1_000_000 });
        await sleep(half);
        intercom.clearFaults();
        rec.endedAt = Date.now();
        rec.detail = `Intercom answered 429 (Retry-After 2 s) for ${half} ms, then 500 for ${half} ms`;
        return;
      }
    }
  }

  private async waitRecovered(rec: FaultRecord): Promise<void> {
    const ended = rec.endedAt ?? Date.now();
    const deadline = Date.now() + 180_000;
    for (;;) {
      const ready = await fetch(`${this.stack.apiUrl}/readyz?include=worker`, { signal: AbortSignal.timeout(5000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready && this.sender.backlogBefore(ended) === 0 && (await this.caughtUp(rec.startedAt).catch(() => false))) {
        rec.recoveredAt = Date.now();
        return;
      }
      if (Date.now() > deadline) throw new Error('the system did not catch up within 180 s after the fault');
      await sleep(1000);
    }
  }

  /** A crash nobody injected: recorded like a fault, and the process restarted as a supervisor would. */
  async crashed(kind: 'worker-crash' | 'api-crash', detail: string): Promise<void> {
    const rec: FaultRecord = { kind, plannedAt: Date.now(), startedAt: Date.now(), detail };
    this.records.push(rec);
    try {
      await this.inject(rec);
      rec.detail = `${detail}; ${rec.detail}`;
    } catch (err) {
      rec.error = err instanceof Error ? err.message : String(err);
    }
  }
}
