/** Workflow entry point for the worker bundle. Deterministic code only. */
export { membershipWorkflow } from './membership';
export { supportRequestWorkflow } from './support';
export { backfillWorkflow } from './backfill';
export { reconcileWorkflow } from './reconcile';
