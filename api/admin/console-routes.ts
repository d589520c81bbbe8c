/**
 * The founder's console under /admin (signed-in founder only): the members list, the member page, the stylesheet,
 * and the operator actions, each a Temporal Update of the member's workflow, audited in operator_actions.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { RequestHandler, Router } from 'express';
import ms from 'ms';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { memberIdSchema } from '../../lib/contract';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { recordOperatorAction as countOperatorAction, type Metrics } from '../../lib/metrics';
import { memberWorkflowId } from '../../workflows/messages';
import {
  accessOverrideUpdate,
  addNoteUpdate,
  extendGracePeriodUpdate,
  resendPaymentLinkUpdate,
  retryCrmSyncUpdate,
  type ActionResult,
} from '../../workflows/operator-messages';
import {
  LIST_FILTERS,
  COUNTED_STATUSES,
  listMembers,
  memberDetails,
  recordOperatorAction,
  type ListFilter,
} from './console-store';
import { CONSOLE_CSS } from './views/console-css';
import { renderPage } from './views/layout';
import { MembersListPage } from './views/members-list';
import { MemberPage, type Flash, type MemberLinks } from './views/member-page';

declare module 'express-session' {
  interface SessionData {
    /** The result of the last operator action, shown once on the member page (post/redirect/get). */
    consoleFlash?: Flash & { customerId: string };
  }
}

export interface ConsoleDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  metrics?: Metrics;
  namespace: string;
  temporalUiUrl?: string;
  maxGraceExtensionMs: number;
  intercomAppId?: string;
  founder: RequestHandler;
  csrf: RequestHandler;
  generateToken: (req: Parameters<RequestHandler>[0]) => string;
}

const MEMBERSHIP_FILTERS = [...LIST_FILTERS, ...COUNTED_STATUSES, 'none'] as const;
const listQuerySchema = z.object({
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((v) => v || undefined),
  status: z
    .union([z.enum(MEMBERSHIP_FILTERS), z.literal('')])
    .optional()
    .transform((v) => v || undefined),
  page: z.coerce.number().int().min(1).max(10_000).catch(1),
});

const duration = (label: string) =>
  z
    .string()
    .trim()
    .transform((v, ctx) => {
      const n = ms(v as ms.StringValue);
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: `${label} is not a duration (e.g. "2 days", "12 hours")` });
        return z.NEVER;
      }
      return n;
    });
const reason = z.string().trim().max(500).default('');

/** The form of each action: what the founder typed, parsed; the workflow's validators decide whether it makes sense. */
const ACTIONS = {
  extend_grace: {
    form: z.object({ extend_by: duration('"by"'), reason }),
    run: (h: Handle, base: Base, f: { extend_by: number; reason: string }) =>
      h.executeUpdate(extendGracePeriodUpdate, {
        args: [{ ...base, extendByMs: f.extend_by, reason: f.reason }],
        updateId: base.actionId,
      }),
    audit: (f: { extend_by: number; reason: string }) => ({
      extend_by: ms(f.extend_by, { long: true }),
      reason: f.reason,
    }),
  },
  resend_payment_link: {
    form: z.object({}),
    run: (h: Handle, base: Base) => h.executeUpdate(resendPaymentLinkUpdate, { args: [base], updateId: base.actionId }),
    audit: () => ({}),
  },
  retry_crm_sync: {
    form: z.object({}),
    run: (h: Handle, base: Base) => h.executeUpdate(retryCrmSyncUpdate, { args: [base], updateId: base.actionId }),
    audit: () => ({}),
  },
  access_override: {
    form: z.object({
      mode: z.enum(['grant', 'revoke', 'clear']),
      for: duration('"for"').or(z.literal('').transform(() => 0)),
      reason,
    }),
    run: (h: Handle, base: Base, f: { mode: 'grant' | 'revoke' | 'clear'; for: number; reason: string }) =>
      h.executeUpdate(accessOverrideUpdate, {
        args: [{ ...base, mode: f.mode, forMs: f.for, reason: f.reason }],
        updateId: base.actionId,
      }),
    audit: (f: { mode: string; for: number; reason: string }) =>
      f.mode === 'clear' ? { mode: f.mode } : { mode: f.mode, for: ms(f.for, { long: true }), reason: f.reason },
  },
  note: {
    form: z.object({ text: z.string().trim().max(2000) }),
    run: (h: Handle, base: Base, f: { text: string }) =>
      h.executeUpdate(addNoteUpdate, { args: [{ ...base, text: f.text }], updateId: base.actionId }),
    audit: (f: { text: string }) => ({ text: f.text }),
  },
} as const;
type Handle = ReturnType<Client['workflow']['getHandle']>;
type Base = { actionId: string; by: string };
type ActionKind = keyof typeof ACTIONS;

/** Runs one action through the workflow; what happened, in the founder's words. */
async function runAction(
  deps: ConsoleDeps,
  kind: ActionKind,
  customerId: string,
  by: string,
  body: unknown,
  actionId: string,
): Promise<{ flash: Flash; input: object }> {
  const action = ACTIONS[kind];
  const parsed = action.form.safeParse(body ?? {});
  if (!parsed.success) {
    return {
      flash: { kind, result: 'rejected', message: parsed.error.issues.map((i) => i.message).join('; ') },
      input: {},
    };
  }
  const input = (action.audit as (f: unknown) => object)(parsed.data);
  // The audit row and the update share the id: the row names the update in the workflow's history.
  const base = { actionId, by };
  const handle = deps.temporal.workflow.getHandle(memberWorkflowId(customerId));
  try {
    const result = await (action.run as (h: Handle, b: Base, f: unknown) => Promise<ActionResult>)(
      handle,
      base,
      parsed.data,
    );
    return { flash: { kind, result: 'ok', message: result.message }, input };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      // The validator's (or handler's) own message: it says why the action makes no sense for this member.
      const message = err.cause instanceof Error ? err.cause.message : err.message;
      return { flash: { kind, result: 'rejected', message }, input };
    }
    if (err instanceof WorkflowNotFoundError) {
      return { flash: { kind, result: 'failed', message: "the member's workflow is not running" }, input };
    }
    deps.log.warn(
      { kind, customerId, err: err instanceof Error ? err.message : String(err) },
      'operator action failed',
    );
    return {
      flash: { kind, result: 'failed', message: 'Temporal is unavailable; nothing was changed, try again' },
      input,
    };
  }
}

function links(deps: ConsoleDeps, customerId: string, contactId: string | null, livemode: boolean): MemberLinks {
  const workflowId = memberWorkflowId(customerId);
  return {
    stripe: `https://dashboard.stripe.com/${livemode ? '' : 'test/'}customers/${encodeURIComponent(customerId)}`,
    intercom:
      contactId && deps.intercomAppId
        ? `https://app.intercom.com/a/apps/${encodeURIComponent(deps.intercomAppId)}/users/${encodeURIComponent(contactId)}/all-conversations`
        : null,
    temporal: deps.temporalUiUrl
      ? `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`
      : null,
    workflowId,
  };
}

export function mountConsole(router: Router, deps: ConsoleDeps): void {
  const { founder, csrf } = deps;
  const maxExtension = ms(deps.maxGraceExtensionMs, { long: true });

  router.get('/admin/console.css', founder, (_req, res) => {
    res.type('text/css').send(CONSOLE_CSS);
  });

  router.get('/admin', founder, async (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    const { q, status, page } = query.success ? query.data : { q: undefined, status: undefined, page: 1 };
    const list = await listMembers(deps.db, { q, filter: status as ListFilter | undefined, page });
    const frame = { email: req.session.adminEmail as string, csrfToken: deps.generateToken(req) };
    res.type('html').send(renderPage(MembersListPage({ ...frame, list, q, status, page })));
  });

  router.get('/admin/members/:id', founder, async (req, res) => {
    const id = memberIdSchema.safeParse(req.params['id']);
    const d = id.success ? await memberDetails(deps.db, id.data) : undefined;
    if (!d) {
      res.status(404).type('text/plain').send('No such member.');
      return;
    }
    const cus = d.member.customer_id;
    const flash = req.session.consoleFlash?.customerId === cus ? req.session.consoleFlash : undefined;
    if (req.session.consoleFlash) delete req.session.consoleFlash;
    const frame = { email: req.session.adminEmail as string, csrfToken: deps.generateToken(req) };
    const page = MemberPage({
      ...frame,
      d,
      flash,
      maxExtension,
      links: links(deps, cus, d.member.crm_contact_id ?? d.crm?.contactId ?? null, d.events[0]?.livemode ?? false),
    });
    res.type('html').send(renderPage(page));
  });

  router.post('/admin/members/:id/actions/:kind', founder, csrf, async (req, res) => {
    const kind = req.params['kind'] as string;
    const id = memberIdSchema.safeParse(req.params['id']);
    const d = id.success ? await memberDetails(deps.db, id.data) : undefined;
    if (!d || !Object.hasOwn(ACTIONS, kind)) {
      res.status(404).type('text/plain').send('No such member or action.');
      return;
    }
    const cus = d.member.customer_id;
    const actor = req.session.adminEmail as string;
    const actionId = randomUUID();
    const { flash, input } = await runAction(deps, kind as ActionKind, cus, actor, req.body, actionId);
    await recordOperatorAction(deps.db, {
      id: actionId,
      customerId: cus,
      actor,
      kind,
      input,
      result: flash.result,
      message: flash.message,
    });
    if (deps.metrics) countOperatorAction(deps.metrics, kind);
    deps.log.info({ kind, customerId: cus, result: flash.result }, 'operator action');
    req.session.consoleFlash = { ...flash, customerId: cus };
    // Saved before answering: express-session otherwise saves while the redirect's headers are already out, and the
    // browser's GET can overtake the write and miss the result.
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    res.redirect(303, `/admin/members/${encodeURIComponent(cus)}`);
  });
}
