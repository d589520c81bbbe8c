/**
 * When and in which order each member's workflow received its events and woke up, read from Temporal's history:
 * the infrastructure's record, not memberops' decisions. Stripe does not order events and faults delay processing,
 * so the oracle applies events in exactly this order, at exactly these times, instead of guessing from the generator's
 * clock; it never reads the workflow's state.
 *
 * An activation is one completed workflow task: its start time is the workflow's clock (`Date.now()`) for everything
 * it processes; it carries the signals recorded before it started (and after the previous completed task started).
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;
/** The signal name memberops' API sends Stripe events with (the workflow's public contract). */
const STRIPE_EVENT_SIGNAL = 'stripeEvent';
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface Activation {
  /** The workflow's clock during this activation (epoch ms). */
  at: number;
  /** Stripe event ids of the signals it delivered, in order (a continued run's carried-over events first). */
  eventIds: string[];
  /** Whether the member workflow's loop runs (a signal, its deadline timer, or the start of a run): due deadlines fire. */
  wakes: boolean;
  /** The first activation of a run (it reads the worker settings before anything else). */
  first: boolean;
  /**
   * Completion times of the worker-settings reads this activation ran (a local activity at the start of a run and before
   * each new event that may start dunning): the workflow clock moves to each as it resolves.
   */
  localActivityTimes: number[];
  /**
   * The latest completion of any local activity in this activation: the workflow clock stays between `at` and this
   * (which local activity resolves before which event is the workflow's business, so the oracle allows the span).
   */
  clockUntil: number;
}

export interface MemberHistory {
  workflowId: string;
  activations: Activation[];
  /** History events over all runs. */
  events: number;
  runs: number;
}

function ms(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!t) return 0;
  const seconds = t.seconds as { toNumber?: () => number } | number | string | undefined;
  const s = typeof seconds === 'object' && seconds?.toNumber ? seconds.toNumber() : Number(seconds ?? 0);
  // As the SDK's tsToMs: whole milliseconds, rounded down.
  return s * 1000 + Math.floor((t.nanos ?? 0) / 1_000_000);
}

function decode<T>(payloads: temporal.api.common.v1.IPayloads | null | undefined): T | undefined {
  const p = payloads?.payloads?.[0];
  return p ? defaultPayloadConverter.fromPayload<T>(p) : undefined;
}

/** The activations of one run, in order. */
export function activationsOf(events: HistoryEvent[]): Activation[] {
  const out: Activation[] = [];
  let pending: Array<{ index: number; eventId?: string; timer?: true }> = [];
  let carried: string[] = [];
  let started: { index: number; at: number } | undefined;
  let first = true;
  let completedAt: number | undefined;
  // A task scheduled the very millisecond the previous one completed continues its work (core resolves a local
  // activity there): the previous activation's clock may reach the continuation's start.
  let continues: Activation | undefined;
  let continuation: Activation | undefined;
  events.forEach((e, index) => {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const input = decode<{ pendingEvents?: Array<{ eventId: string }> }>(
          e.workflowExecutionStartedEventAttributes?.input,
        );
        carried = (input?.pendingEvents ?? []).map((p) => p.eventId);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const attrs = e.workflowExecutionSignaledEventAttributes;
        // Other signals (support's billing hand-off) are handled on arrival and do not run the member's loop.
        if (attrs?.signalName !== STRIPE_EVENT_SIGNAL) break;
        const signal = decode<{ eventId?: string }>(attrs.input);
        pending.push({ index, eventId: signal?.eventId ?? '(unreadable signal)' });
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        pending.push({ index, timer: true });
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        continuation = completedAt !== undefined && ms(e.eventTime) === completedAt ? out[out.length - 1] : undefined;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        started = { index, at: ms(e.eventTime) };
        continues = continuation;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        if (!started) break;
        const s = started;
        const mine = pending.filter((p) => p.index < s.index);
        pending = pending.filter((p) => p.index > s.index);
        const signals = mine.flatMap((p) => (p.eventId ? [p.eventId] : []));
        if (continues && mine.length === 0 && carried.length === 0) {
          // Nothing new arrived: the same activation goes on (its local activities' markers follow this completion).
          continues.clockUntil = Math.max(continues.clockUntil, s.at);
        } else {
          out.push({
            at: s.at,
            eventIds: [...carried, ...signals],
            wakes: first || signals.length > 0 || mine.some((p) => p.timer) || carried.length > 0,
            first,
            localActivityTimes: [],
            clockUntil: s.at,
          });
          if (continues) continues.clockUntil = Math.max(continues.clockUntil, s.at);
        }
        continues = undefined;
        completedAt = ms(e.eventTime);
        carried = [];
        first = false;
        break;
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        // The commands of a workflow task follow its completion: a local activity marker belongs to the last activation.
        const data = decode<{ complete_time?: { seconds?: number; nanos?: number }; activity_type?: string }>(
          e.markerRecordedEventAttributes?.details?.['data'],
        );
        const last = out[out.length - 1];
        if (!last || !data?.complete_time) break;
        const at = ms(data.complete_time);
        if (data.activity_type === 'loadWorkerSettings') last.localActivityTimes.push(at);
        last.clockUntil = Math.max(last.clockUntil, at);
        break;
      }
    }
  });
  return out;
}

/** Every member workflow on the task queue, all runs in order. */
export async function memberHistories(client: Client, taskQueue: string): Promise<Map<string, MemberHistory>> {
  const runs = new Map<string, Array<{ runId: string; start: number }>>();
  for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
    runs.set(w.workflowId, [...(runs.get(w.workflowId) ?? []), { runId: w.runId, start: w.startTime.getTime() }]);
  }
  const out = new Map<string, MemberHistory>();
  const ids = [...runs.keys()];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const workflowId = ids[next++] as string;
        const list = (runs.get(workflowId) ?? []).sort((a, b) => a.start - b.start);
        const h: MemberHistory = { workflowId, activations: [], events: 0, runs: list.length };
        for (const r of list) {
          const history = await client.workflow.getHandle(workflowId, r.runId).fetchHistory();
          const events = history.events ?? [];
          h.events += events.length;
          h.activations.push(...activationsOf(events));
        }
        out.set(workflowId, h);
      }
    }),
  );
  return out;
}
