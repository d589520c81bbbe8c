/** GET /members/:id and GET /members/:id/access. */
import type { Client } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { memberWorkflowId, membershipQuery, type MembershipView } from '../../workflows/messages';
import { DependencyUnavailableError } from '../errors';
import { findAccess, findMembership, listNotices, listTransitions, type MembershipRow } from '../member-store';

/** Stripe ids and typical app user ids (uuid, numeric, slug, email-like); anything else is refused with 400. */
export const memberIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,254}$/, 'is not a valid member id');
const consistencySchema = z.enum(['eventual', 'strong']).default('eventual');

export interface MemberRouteDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  /** Extra sections of GET /members/:id contributed by other features (CRM, support). */
  sections?: Array<(customerId: string) => Promise<object>>;
}

function parseId(req: Request, res: Response): string | undefined {
  const r = memberIdSchema.safeParse(req.params['id']);
  if (!r.success) {
    res.status(400).json({ error: 'invalid_member_id', message: 'id is not a valid member id' });
    return undefined;
  }
  return r.data;
}

function parseConsistency(req: Request, res: Response): 'eventual' | 'strong' | undefined {
  const r = consistencySchema.safeParse(req.query['consistency']);
  if (!r.success) {
    res.status(400).json({ error: 'invalid_consistency', message: 'consistency must be eventual or strong' });
    return undefined;
  }
  return r.data;
}

function rowToBody(row: MembershipRow) {
  return {
    memberId: row.customer_id,
    customerId: row.customer_id,
    appUserId: row.app_user_id,
    email: row.email,
    status: row.status,
    allowed: row.allowed,
    reason: row.reason,
    subscriptionId: row.subscription_id,
    subscriptionStatus: row.subscription_status,
    cancelAtPeriodEnd: row.cancel_at_period_end,
    currentPeriodEnd: row.current_period_end?.toISOString() ?? null,
    trialEnd: row.trial_end?.toISOString() ?? null,
    disputed: row.disputed,
    latestInvoiceUrl: row.latest_invoice_url,
    dunning: row.dunning,
    version: Number(row.version),
    updatedAt: row.state_updated_at?.toISOString() ?? null,
  };
}

function viewToBody(v: MembershipView) {
  const { transitions: _t, crm: _c, dunningCycles: _d, ...rest } = v;
  return { memberId: v.customerId, ...rest };
}

export function membersRouter({ db, temporal, log, sections = [] }: MemberRouteDeps): Router {
  const router = Router();

  async function strongView(customerId: string): Promise<MembershipView | undefined> {
    try {
      return await temporal.withDeadline(Date.now() + 5000, () =>
        temporal.workflow.getHandle(memberWorkflowId(customerId)).query(membershipQuery),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'WorkflowNotFoundError') return undefined;
      // Temporal down, or the workflow between runs (continue-as-new): the caller may retry or read the projection.
      throw new DependencyUnavailableError('temporal', `membership query failed: ${(err as Error).message}`, { cause: err });
    }
  }

  router.get('/members/:id', async (req, res) => {
    const id = parseId(req, res);
    const consistency = parseConsistency(req, res);
    if (!id || !consistency) return;
    const row = await findMembership(db, id);
    const customerId = row?.customer_id ?? (id.startsWith('cus_') ? id : undefined);
    if (!customerId) {
      res.status(404).json({ error: 'member_not_found', memberId: id });
      return;
    }
    let body: Record<string, unknown>;
    let transitions;
    if (consistency === 'strong') {
      const view = await strongView(customerId);
      if (!view) {
        res.status(404).json({ error: 'member_not_found', memberId: id });
        return;
      }
      body = viewToBody(view);
      transitions = view.transitions;
    } else {
      if (!row) {
        res.status(404).json({ error: 'member_not_found', memberId: id });
        return;
      }
      body = rowToBody(row);
      transitions = await listTransitions(db, customerId);
    }
    const notices = await listNotices(db, customerId);
    const extra = await Promise.all(sections.map((s) => s(customerId)));
    res.json({
      ...body,
      transitions,
      notices: notices.map((n) => ({
        key: n.key,
        kind: n.kind,
        channel: n.channel,
        status: n.status,
        sentAt: n.sent_at,
      })),
      ...Object.assign({}, ...extra),
    });
  });

  router.get('/members/:id/access', async (req, res) => {
    const id = parseId(req, res);
    const consistency = parseConsistency(req, res);
    if (!id || !consistency) return;
    if (consistency === 'strong') {
      const row = id.startsWith('cus_') ? undefined : await findAccess(db, id);
      const view = await strongView(row?.customer_id ?? id);
      if (!view) {
        res.status(404).json({ memberId: id, status: 'none', allowed: false, reason: 'unknown member' });
        return;
      }
      res.json({ memberId: id, status: view.status, allowed: view.allowed, reason: view.reason });
      return;
    }
    const row = await findAccess(db, id);
    if (!row) {
      res.status(404).json({ memberId: id, status: 'none', allowed: false, reason: 'unknown member' });
      return;
    }
    res.json({ memberId: id, status: row.status, allowed: row.allowed, reason: row.reason });
  });

  void log;
  return router;
}
