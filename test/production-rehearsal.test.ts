/**
 * The production rehearsal: the compiled API and two compiled workers (`node dist/...`, as the image runs them) on a
 * Temporal server backed by PostgreSQL (history and SQL visibility), driven by signed Stripe webhooks through a worker
 * crash and a server restart.
 */
import { kitAuthHeaders, kitCredentialsEnv } from '../tools/testkit/api-credentials';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { memberWorkflowId } from '../workflows/messages';
import { findFreePort } from '../tools/testkit/server-process';
import { newMember, sign, stripeEvent, type StripeEventJson } from '../tools/testkit/stripe-events';
import { createTestDatabase, type TestDatabase } from '../tools/testkit/pg';
import { findOrBuildTemporalServer, TemporalServer } from '../tools/testkit/temporal-server';
import { buildCompiledApp, CompiledProcess, type CompiledApp } from './helpers/compiled-app';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(240_000);

const PG_ADMIN_URL = process.env['MEMBEROPS_TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const GRACE = '8s';

interface MemberBody {
  status: string;
  dunning: { graceEndsAt: string };
  transitions: Array<{ to: string; at: string }>;
}

describe('production rehearsal: compiled API and two workers on a PostgreSQL-backed Temporal server', () => {
  let app: CompiledApp;
  let db: TestDatabase;
  let server: TemporalServer;
  let client: Client;
  let api: CompiledProcess;
  let workers: CompiledProcess[];
  let apiUrl: string;
  const secret = `whsec_rehearsal_${randomBytes(12).toString('hex')}`;
  const member = newMember();
  const started = Date.now();

  beforeAll(async () => {
    const log = (msg: string): void => void process.stderr.write(`[rehearsal] ${msg}\n`);
    const binaries = await findOrBuildTemporalServer({ log });
    if (binaries === undefined) throw new Error('No temporal-server and no Go: run `npx tsx tools/temporal-server.ts`');
    // The build and the server's start-up are independent: overlap them.
    const [builtApp, startedServer, database] = await Promise.all([
      buildCompiledApp(),
      TemporalServer.start({ binaries, pgUrl: PG_ADMIN_URL, dropOnStop: true, log }),
      createTestDatabase(PG_ADMIN_URL),
    ]);
    [app, server, db] = [builtApp, startedServer, database];
    log(`npm run build: ${app.buildMs} ms; stack ready after ${Date.now() - started} ms`);

    const port = await findFreePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      // Production mode: the config refuses test-mode Stripe keys then, and none is set here.
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_TASK_QUEUE: `rehearsal-${randomBytes(4).toString('hex')}`,
      STRIPE_WEBHOOK_SECRET: secret,
      DUNNING_GRACE_PERIOD: GRACE,
      DUNNING_REMINDERS: '0s',
      // Far enough that the member is never canceled during the rehearsal.
      DUNNING_CANCEL_AFTER: '1 hour',
      LOG_LEVEL: 'warn',
      // What a production API refuses to start without: the app's key and the founder's sign-in settings.
      ...kitCredentialsEnv(),
    };
    api = new CompiledProcess('api', app, 'api', { ...env, PORT: String(port) });
    workers = [
      new CompiledProcess('worker-a', app, 'worker', env),
      new CompiledProcess('worker-b', app, 'worker', env),
    ];
    await Promise.all([api, ...workers].map((p) => p.start()));
    await waitFor(async () => (await fetch(`${apiUrl}/readyz?include=worker`)).ok, {
      timeoutMs: 60_000,
      description: 'the API ready',
    });
    const connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
  });

  afterAll(async () => {
    await Promise.all([api, ...(workers ?? [])].map((p) => p?.stop()));
    await client?.connection.close();
    await server?.stop();
    await db?.drop();
    process.stderr.write(`[rehearsal] total ${Date.now() - started} ms\n`);
  });

  async function deliver(event: StripeEventJson): Promise<void> {
    const payload = JSON.stringify(event);
    const res = await fetch(`${apiUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload, secret) },
      body: payload,
    });
    expect({ type: event.type, status: res.status }).toEqual({ type: event.type, status: 200 });
  }

  async function waitForStatus(status: string, timeoutMs = 60_000): Promise<MemberBody> {
    return waitFor(
      async () => {
        const res = await fetch(`${apiUrl}/members/${member.customerId}`, { headers: kitAuthHeaders });
        const body = res.ok ? ((await res.json()) as MemberBody) : undefined;
        return body?.status === status ? body : undefined;
      },
      { timeoutMs, intervalMs: 250, description: `member ${member.customerId} to be ${status}` },
    );
  }

  async function visibleAs(status: string): Promise<void> {
    const query = `MembershipStatus="${status}" AND WorkflowId="${memberWorkflowId(member.customerId)}"`;
    await waitFor(
      async () => {
        for await (const wf of client.workflow.list({ query })) return wf.workflowId;
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: `SQL visibility to answer ${query}` },
    );
  }

  /** Process id of the worker that started the member workflow's latest workflow task (identity `<pid>@<host>`). */
  async function lastWorkflowTaskPid(): Promise<number | undefined> {
    const history = await client.workflow.getHandle(memberWorkflowId(member.customerId)).fetchHistory();
    const started = (history.events ?? []).filter((e) => e.workflowTaskStartedEventAttributes);
    const identity = started.at(-1)?.workflowTaskStartedEventAttributes?.identity ?? '';
    return Number.parseInt(identity.split('@')[0] ?? '', 10) || undefined;
  }

  it('moves a member to active after a signed checkout webhook', async () => {
    await deliver(stripeEvent('checkout.session.completed', member, { object: { payment_status: 'paid' } }));
    await waitForStatus('active');
    await visibleAs('active');
  });

  it('moves the member to past_due when the grace period ends, although a worker was killed mid-cycle', async () => {
    await deliver(stripeEvent('invoice.payment_failed', member));
    const grace = await waitForStatus('grace_period');
    const graceEndsAt = Date.parse(grace.dunning.graceEndsAt);
    expect(Date.now()).toBeLessThan(graceEndsAt);

    // Kill the worker that ran the member's last workflow task: it holds the workflow in its sticky cache.
    const cycleWorker = await lastWorkflowTaskPid();
    const [killed, survivor] = workers[0]?.pid === cycleWorker ? [workers[0], workers[1]] : [workers[1], workers[0]];
    expect(killed?.pid).toBe(cycleWorker);
    await killed?.stop('SIGKILL');
    expect(killed?.running).toBe(false);
    const pastDue = await waitForStatus('past_due');
    const movedAt = Date.parse(pastDue.transitions.find((t) => t.to === 'past_due')?.at ?? '');
    // The timer fired at the deadline set before the crash, on the surviving worker.
    expect(movedAt).toBeGreaterThanOrEqual(graceEndsAt);
    expect(movedAt).toBeLessThan(graceEndsAt + 30_000);
    expect(await lastWorkflowTaskPid()).toBe(survivor?.pid);
  });

  it('finds past_due members with the MembershipStatus search attribute on SQL visibility', async () => {
    await visibleAs('past_due');
  });

  it('recovers the member to active after a Temporal server restart', async () => {
    const restartStarted = Date.now();
    await server.restart();
    process.stderr.write(`[rehearsal] server restart ${Date.now() - restartStarted} ms\n`);
    await waitFor(async () => (await fetch(`${apiUrl}/readyz?include=worker`)).ok, {
      timeoutMs: 30_000,
      description: 'the API ready',
    });
    await deliver(stripeEvent('invoice.paid', member));
    await waitForStatus('active');
    await visibleAs('active');
    expect(workers.filter((w) => w.running)).toHaveLength(1);
    expect(api.running).toBe(true);
  });
});
