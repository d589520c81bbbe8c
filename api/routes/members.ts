/** GET /members/:id and GET /members/:id/access. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { accessAnswerSchema, memberAnswerSchema, memberIdSchema, type AccessAnswer } from '../../lib/contract';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { memberWorkflowId, membershipQuery, type MembershipView } from '../../workflows/messages';
import { BadRequestError, NotFoundError } from '../errors';
import { callTemporal } from '../../lib/temporal-call';
import { findAccess, findMembership, listNotices, listTransitions, type MembershipRow } from '../member-store';

const consistencySchema = z.enum(['eventual', 'strong']).default('eventual');

export interface MemberRouteDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  /** Extra sections of GET /members/:id contributed by other features (CRM, support). */
  sections?: Array<(customerId: string) => Promise<object>>;
}

function parseId(req: Request): string {
  const r = memberIdSchema.safeParse(req.params['id']);
  if (!r.success) throw new BadRequestError('invalid_member_id', 'id is not a valid member id');
  return r.data;
}

function parseConsistency(req: Request): 'eventual' | 'strong' {
  const r = consistencySchema.safeParse(req.query['consistency']);
  if (!r.success) throw new BadRequestError('invalid_consistency', 'consistency must be eventual or strong');
  return r.data;
}

/** The 404 of GET /members/:id/access: an answer the app can act on like any denial. */
const unknownMember = (memberId: string): AccessAnswer =>
  accessAnswerSchema.parse({ memberId, status: 'none', allowed: false, reason: 'unknown member' });

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
      // Temporal down, or the workflow between runs (continue-as-new): 503, the caller may retry or read the projection.
      return await callTemporal(temporal, 'membership query', () =>
        temporal.workflow.getHandle(memberWorkflowId(customerId)).query(membershipQuery),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  router.get('/members/:id', async (req, res) => {
    const id = parseId(req);
    const consistency = parseConsistency(req);
    const row = await findMembership(db, id);
    const customerId = row?.customer_id ?? (id.startsWith('cus_') ? id : undefined);
    if (!customerId) {
      throw new NotFoundError({ error: 'member_not_found', memberId: id });
    }
    let body: Record<string, unknown>;
    let transitions;
    if (consistency === 'strong') {
      const view = await strongView(customerId);
      if (!view) {
        throw new NotFoundError({ error: 'member_not_found', memberId: id });
      }
      body = viewToBody(view);
      transitions = view.transitions;
    } else {
      if (!row) {
        throw new NotFoundError({ error: 'member_not_found', memberId: id });
      }
      body = rowToBody(row);
      transitions = await listTransitions(db, customerId);
    }
    const notices = await listNotices(db, customerId);
    const extra = await Promise.all(sections.map((s) => s(customerId)));
    res.json(
      memberAnswerSchema.parse({
        ...body,
        transitions,
        notices: notices.map((n) => ({
          key: n.key,
          kind: n.kind,
          channel: n.channel,
          status: n.status,
          sentAt: n.sent_at?.toISOString() ?? null,
        })),
        ...Object.assign({}, ...extra),
      }),
    );
  });

  router.get('/members/:id/access', async (req, res) => {
    const id = parseId(req);
    const consistency = parseConsistency(req);
    if (consistency === 'strong') {
      const row = id.startsWith('cus_') ? undefined : await findAccess(db, id);
      const view = await strongView(row?.customer_id ?? id);
      if (!view) {
        throw new NotFoundError(unknownMember(id));
      }
      res.json(accessAnswerSchema.parse({ memberId: id, status: view.status, allowed: view.allowed, reason: view.reason }));
      return;
    }
    const row = await findAccess(db, id);
    if (!row) {
      throw new NotFoundError(unknownMember(id));
    }
    res.json(accessAnswerSchema.parse({ memberId: id, status: row.status, allowed: row.allowed, reason: row.reason }));
  });

  void log;
  return router;
}
