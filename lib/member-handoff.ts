/** Signal-with-start of a member workflow with a Stripe snapshot (the event hand-off is in api/process-stripe-event.ts). */
import type { Client } from '@temporalio/client';
import type { membershipWorkflow } from '../workflows/membership';
import { memberWorkflowId, membershipStatusKey, stripeCustomerIdKey } from '../workflows/messages';
import { stripeSnapshotSignal, type MemberSnapshot } from '../workflows/snapshot-messages';

export function signalWithSnapshot(temporal: Client, taskQueue: string, snapshot: MemberSnapshot) {
  return temporal.workflow.signalWithStart<typeof membershipWorkflow, [MemberSnapshot]>('membershipWorkflow', {
    workflowId: memberWorkflowId(snapshot.customerId),
    taskQueue,
    args: [{ customerId: snapshot.customerId, lean: true }],
    signal: stripeSnapshotSignal,
    signalArgs: [snapshot],
    typedSearchAttributes: [
      { key: stripeCustomerIdKey, value: snapshot.customerId },
      { key: membershipStatusKey, value: 'none' },
    ],
  });
}
