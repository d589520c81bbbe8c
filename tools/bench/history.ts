/**
 * What Temporal persists per webhook event, read back from a sample of member workflows' histories: every history
 * event is written by the server (most are a round trip with the worker), and some also write the visibility store
 * (SQL visibility on the PostgreSQL-backed server): a workflow's start and close, and each search attribute or memo
 * upsert (UpsertWorkflowSearchAttributes, WorkflowPropertiesModified).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { memberWorkflowId } from '../../workflows/messages';
import type { EventPlan } from './events';

export interface HistoryPerEvent {
  /** History events per webhook event delivered to the sampled workflows. */
  perEvent: number;
  /** The same, per history event type (without the EVENT_TYPE_ prefix). */
  types: Record<string, number>;
  /** Visibility record writes per webhook event: starts, closes, search attribute and memo upserts. */
  visibilityPerEvent: number;
  /** The first sampled workflow's history, event types in order (for reading where the events come from). */
  example: string[];
}

const VISIBILITY_WRITES = new Set([
  'WORKFLOW_EXECUTION_STARTED',
  'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
  'WORKFLOW_PROPERTIES_MODIFIED',
  'WORKFLOW_EXECUTION_COMPLETED',
  'WORKFLOW_EXECUTION_FAILED',
  'WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
  'WORKFLOW_EXECUTION_TERMINATED',
]);

/** `sample` workflows of the plan; `events` counts the plan's webhook events per member (defaults to all of them). */
export async function historyPerEvent(
  temporalClient: Client,
  plan: EventPlan,
  sample: number,
  countEvent: (type: string) => boolean = () => true,
): Promise<HistoryPerEvent> {
  const perMember = new Map<string, number>();
  for (const e of plan.events) {
    if (countEvent(e.type)) perMember.set(e.customerId, (perMember.get(e.customerId) ?? 0) + 1);
  }
  const types: Record<string, number> = {};
  let history = 0;
  let visibility = 0;
  let events = 0;
  const example: string[] = [];
  for (const m of plan.members.slice(0, sample)) {
    const h = await temporalClient.workflow.getHandle(memberWorkflowId(m.customerId)).fetchHistory();
    for (const e of h.events ?? []) {
      const name = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(
        /^EVENT_TYPE_/,
        '',
      );
      types[name] = (types[name] ?? 0) + 1;
      history++;
      if (m === plan.members[0]) {
        const attrs = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
        example.push(attrs ? `${name}(${Object.keys(attrs).join(',')})` : name);
      }
      if (VISIBILITY_WRITES.has(name)) visibility++;
    }
    events += perMember.get(m.customerId) ?? 0;
  }
  for (const k of Object.keys(types)) types[k] = Math.round(((types[k] as number) / events) * 100) / 100;
  return {
    perEvent: events ? history / events : NaN,
    types,
    visibilityPerEvent: events ? visibility / events : NaN,
    example,
  };
}
