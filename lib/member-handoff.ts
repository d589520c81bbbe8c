/** Signal-with-start of a member workflow with a Stripe snapshot (the event hand-off is in lib/process-stripe-event.ts). */
import type { Client } from '@temporalio/client';
import type { membershipWorkflow } from '../workflows/membership';
import { memberWorkflowId, membershipStatusKey, stripeCustomerIdKey } from '../workflows/messages';
import { stripeSnapshotSignal, type MemberSnapshot } from '../workflows/snapshot-messages';
import { memberSummary, memoAtStart, statusAtStart } from '../workflows/temporal-ui';

export function signalWithSnapshot(temporal: Client, taskQueue: string, snapshot: MemberSnapshot) {
  return temporal.workflow.signalWithStart<typeof membershipWorkflow, [MemberSnapshot]>('membershipWorkflow', {
    workflowId: memberWorkflowId(snapshot.customerId),
    taskQueue,
    args: [{ customerId: snapshot.customerId, lean: true, settingsOnCycleStart: true }],
    signal: stripeSnapshotSignal,
    signalArgs: [snapshot],
    // The Temporal UI's first line for the member, as for a start by a webhook (api/process-stripe-event.ts).
    staticSummary: memberSummary(snapshot.customerId, snapshot.email),
    ...memoAtStart(snapshot),
    typedSearchAttributes: [
      { key: stripeCustomerIdKey, value: snapshot.customerId },
      { key: membershipStatusKey, value: statusAtStart({ snapshot }, Date.now()) },
    ],
  });
}
