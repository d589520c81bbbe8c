/**
 * The first backfill: pages through Stripe's customers, newest first, and hands each to its member workflow as a
 * snapshot. The cursor lives in workflow state, so a worker crash replays to the last finished page and
 * continue-as-new carries it on; Stripe requests are paced to a rate, and 429s are retried after Retry-After.
 */
import {
  continueAsNew,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface BackfillProgress {
  /** ISO time the backfill started (first run). */
  startedAt: string;
  pages: number;
  customers: number;
  /** Members memberops had not known before. */
  created: number;
  /** Members that already existed (a snapshot that matches their state changes nothing). */
  updated: number;
  /** Page attempts that failed and were retried (429, 5xx, timeouts). */
  errors: number;
  requests: number;
  /** Stripe's `starting_after` of the next page. */
  cursor: string | null;
  done: boolean;
  /** ISO, when done. */
  finishedAt: string | null;
}

export interface BackfillInput {
  runId: string;
  /** Stripe requests per second; 0: unthrottled. */
  requestsPerSecond: number;
  pageSize?: number;
  /** Pages per workflow run before continue-as-new (keeps histories short). */
  pagesPerRun?: number;
  progress?: BackfillProgress;
}

/** Progress of the running backfill. */
export const backfillProgressQuery = defineQuery<BackfillProgress>('backfillProgress');
/** Business id of the backfill: one at a time. */
export const BACKFILL_WORKFLOW_ID = 'memberops-backfill';

const { backfillCustomerPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20s',
  // 429s carry their own delay (nextRetryDelay from Retry-After); others back off up to a minute, without limit.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

function describe(p: BackfillProgress): string {
  return [
    `**Backfill ${p.done ? 'finished' : 'running'}**`,
    `pages ${p.pages}, customers ${p.customers}, members created ${p.created}, updated ${p.updated}, errors ${p.errors}`,
    `Stripe requests ${p.requests}; next page after ${p.cursor ?? '(start)'}`,
  ].join('\n\n');
}

/** Backfills every Stripe customer into memberops. */
export async function backfillWorkflow(input: BackfillInput): Promise<BackfillProgress> {
  const pageSize = input.pageSize ?? 100;
  const pagesPerRun = input.pagesPerRun ?? 500;
  const progress: BackfillProgress = input.progress ?? {
    startedAt: new Date().toISOString(),
    pages: 0,
    customers: 0,
    created: 0,
    updated: 0,
    errors: 0,
    requests: 0,
    cursor: null,
    done: false,
    finishedAt: null,
  };
  setHandler(backfillProgressQuery, () => progress);
  setCurrentDetails(describe(progress));

  for (let pagesThisRun = 0; ; pagesThisRun += 1) {
    if (pagesThisRun >= pagesPerRun || workflowInfo().continueAsNewSuggested) {
      return await continueAsNew<typeof backfillWorkflow>({ ...input, progress });
    }
    const started = Date.now();
    const page = await backfillCustomerPage({ runId: input.runId, startingAfter: progress.cursor, limit: pageSize });
    progress.pages += 1;
    progress.customers += page.customers;
    progress.created += page.created;
    progress.updated += page.updated;
    progress.errors += page.failedAttempts;
    progress.requests += page.requests;
    progress.cursor = page.lastId;
    setCurrentDetails(describe(progress));
    if (!page.hasMore) break;
    if (input.requestsPerSecond > 0) {
      const due = (page.requests * 1000) / input.requestsPerSecond - (Date.now() - started);
      if (due > 0) await sleep(due);
    }
  }
  progress.done = true;
  progress.finishedAt = new Date().toISOString();
  setCurrentDetails(describe(progress));
  return progress;
}
