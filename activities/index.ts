/**
 * All I/O of memberops. `createActivities` receives its clients (built only in `worker/`), so tests can
 * point the same code at local stand-ins.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { IntercomClient } from 'intercom-client';
import type Stripe from 'stripe';
import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { WorkerSettings } from '../workflows/membership';
import type { CrmSync, CrmSyncInput } from './crm-types';
import type { MemberMessenger } from './messenger';
import { createNotifierActivities } from './notifier';
import { createProjectionActivities } from './projection';
import { createStripeActivities } from './stripe-billing';
import { createSupportActivities } from './support';

export interface ActivityDeps {
  db: Db;
  config: Pick<Config, 'dunning' | 'billingPortalReturnUrl' | 'memberHistoryLimit'> & {
    intercom?: Pick<Config['intercom'], 'adminId' | 'supportTeamId'>;
  };
  log: Logger;
  messenger: MemberMessenger;
  stripe?: Stripe;
  crm?: CrmSync;
  /** Intercom API client for support replies, tags and assignments (CRM sync builds its own). */
  intercom?: IntercomClient;
}

export function createActivities(deps: ActivityDeps) {
  const { db, config, log, stripe, crm } = deps;
  return {
    /** The worker's current dunning policy and feature switches (a local activity: recorded, not re-read on replay). */
    async loadWorkerSettings(): Promise<WorkerSettings> {
      return { dunning: config.dunning, crmEnabled: !!crm, historyLimit: config.memberHistoryLimit };
    },
    ...createProjectionActivities(db),
    ...createNotifierActivities({
      db,
      log,
      messenger: deps.messenger,
      stripe,
      billingPortalReturnUrl: config.billingPortalReturnUrl,
    }),
    ...createStripeActivities({ stripe, log }),
    ...createSupportActivities({
      db,
      log,
      messenger: deps.messenger,
      intercom: deps.intercom,
      adminId: config.intercom?.adminId,
      supportTeamId: config.intercom?.supportTeamId,
    }),
    /** Brings the member's CRM contact in line with the membership (attributes and lifecycle tags). */
    async syncCrmContact(input: CrmSyncInput): Promise<{ contactId: string | null }> {
      if (!crm) throw ApplicationFailure.nonRetryable('CRM sync is off (no INTERCOM_ACCESS_TOKEN)', 'CrmDisabled');
      return crm.syncContact(input);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
