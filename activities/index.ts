/**
 * All I/O of memberops. `createActivities` receives its clients (built only in `worker/`), so tests can
 * point the same code at local stand-ins.
 */
import type Stripe from 'stripe';
import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { WorkerSettings } from '../workflows/membership';
import { createBackfillActivities } from './backfill';
import { createCrmSyncActivities } from './crm-sync';
import { createEffectFailureActivities } from './effect-failures';
import { createLogMessages } from './intercom/messages';
import type { IntercomWorkspace } from './intercom/workspace';
import { createNotifierActivities } from './notifier';
import { createProjectionActivities } from './projection';
import { createReconcileActivities } from './reconcile';
import { createStripeActivities } from './stripe-billing';
import { createSupportActivities } from './support';

export interface ActivityDeps {
  db: Db;
  config: Pick<Config, 'dunning' | 'billingPortalReturnUrl' | 'memberHistoryLimit'> &
    Partial<Pick<Config, 'console' | 'containment'>> & {
    reconcile?: Pick<Config['reconcile'], 'everyMs'>;
    intercom?: Pick<Config['intercom'], 'accessToken' | 'supportTeamId'>;
  };
  log: Logger;
  stripe?: Stripe;
  /** The worker's one Intercom workspace (CRM sync, member messages, support); unset: messages are logged. */
  intercom?: IntercomWorkspace;
}

export function createActivities({ db, config, log, stripe, intercom }: ActivityDeps) {
  const messages = intercom?.messages ?? createLogMessages(log);
  // CRM sync follows INTERCOM_ACCESS_TOKEN; a workspace wired without one only carries member messages.
  const crmEnabled = !!intercom && !!config.intercom?.accessToken;
  return {
    /** The worker's current dunning policy and feature switches (a local activity: recorded, not re-read on replay). */
    async loadWorkerSettings(): Promise<WorkerSettings> {
      return {
        dunning: config.dunning,
        crmEnabled,
        historyLimit: config.memberHistoryLimit,
        operatorMaxGraceExtensionMs: config.console?.maxGraceExtensionMs,
        effectDeadlineMs: config.containment?.effectDeadlineMs,
      };
    },
    ...createProjectionActivities(db),
    ...createNotifierActivities({ db, log, messages, stripe, billingPortalReturnUrl: config.billingPortalReturnUrl }),
    ...createStripeActivities({ stripe, log }),
    ...createSupportActivities({ db, log, messages, intercom, supportTeamId: config.intercom?.supportTeamId }),
    ...createCrmSyncActivities({ db, log, intercom }),
    ...createBackfillActivities({ db, stripe, log }),
    ...createReconcileActivities({ db, stripe, log, everyMs: config.reconcile?.everyMs ?? 3_600_000 }),
    ...createEffectFailureActivities({ db, log }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
