import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ensureSearchAttributes, SEARCH_ATTRIBUTES } from '../lib/search-attributes';
import { TemporalDevServer } from '../tools/testkit/temporal-dev-server';
import { waitFor } from './helpers/wait-for';

const cliPath = process.env.MEMBEROPS_TEST_TEMPORAL_CLI;
const sharedAddress = process.env.MEMBEROPS_TEST_TEMPORAL_ADDRESS;
// Without a CLI binary the global setup used @temporalio/testing's server, which this file cannot restart or kill.
const describeWithCli = cliPath === undefined ? describe.skip : describe;
const itWithCli = cliPath === undefined ? it.skip : it;

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const membershipStatusKey = defineSearchAttributeKey('MembershipStatus', SearchAttributeType.KEYWORD);
const stripeCustomerIdKey = defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD);

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  // Last in, first out: connections close before their server stops, servers stop before their directory goes.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(opts: { dbFilename?: string; namespace?: string } = {}): Promise<TemporalDevServer> {
  const server = await TemporalDevServer.start({ cliPath: cliPath as string, headless: true, ...opts });
  cleanups.push(() => server.stop());
  return server;
}

async function connect(address: string): Promise<Connection> {
  const connection = await Connection.connect({ address });
  cleanups.push(() => connection.close());
  return connection;
}

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'memberops-dev-server-test-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function customSearchAttributes(connection: Connection, namespace: string): Promise<Record<string, number>> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  return customAttributes ?? {};
}

/** Starts a workflow nobody will ever run: no worker polls its task queue, so it stays Running. */
async function startOrphanWorkflow(connection: Connection): Promise<{ workflowId: string; customerId: string }> {
  const client = new Client({ connection });
  const customerId = `cus_${randomUUID().replaceAll('-', '')}`;
  const workflowId = `member-${customerId}`;
  await client.workflow.start('nonexistentWorkflow', {
    taskQueue: `no-worker-${randomUUID()}`,
    workflowId,
    typedSearchAttributes: [
      { key: membershipStatusKey, value: 'active' },
      { key: stripeCustomerIdKey, value: customerId },
    ],
  });
  return { workflowId, customerId };
}

async function expectOrphanWorkflowRunning(
  connection: Connection,
  workflowId: string,
  customerId: string,
): Promise<void> {
  const client = new Client({ connection });
  const description = await client.workflow.getHandle(workflowId).describe();
  expect(description.type).toBe('nonexistentWorkflow');
  expect(description.status.name).toBe('RUNNING');
  // Visibility is eventually consistent; the custom search attributes must still index the workflow.
  await waitFor(
    async () =>
      (await client.workflow.count(`StripeCustomerId = '${customerId}' AND MembershipStatus = 'active'`)).count === 1,
    { description: `workflow ${workflowId} to be found by its search attributes` },
  );
}

describeWithCli('TemporalDevServer', () => {
  it('starts on a free 127.0.0.1 port with the memberops search attributes in every namespace', async () => {
    const server = await startServer({ namespace: 'memberops-test' });

    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.uiUrl).toBeUndefined();
    expect(server.running).toBe(true);
    const connection = await connect(server.address);
    for (const namespace of ['default', 'memberops-test']) {
      const attributes = await customSearchAttributes(connection, namespace);
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) expect(attributes[name]).toBe(KEYWORD);
    }
  });

  it('leaves no server process behind after stop()', async () => {
    const server = await startServer();
    const { pid } = server;

    await server.stop();

    expect(server.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it('keeps a workflow started before restart() when the state is in a db file', async () => {
    const server = await startServer({ dbFilename: path.join(await tempDir(), 'temporal.db') });
    const { address, pid } = server;
    const before = await connect(address);
    const { workflowId, customerId } = await startOrphanWorkflow(before);

    await server.restart();

    expect(server.address).toBe(address);
    expect(server.pid).not.toBe(pid);
    await expectOrphanWorkflowRunning(await connect(server.address), workflowId, customerId);
  });

  it('keeps a workflow after the server is killed mid-flight and restarted on the same db file', async () => {
    const server = await startServer({ dbFilename: path.join(await tempDir(), 'temporal.db') });
    const { workflowId, customerId } = await startOrphanWorkflow(await connect(server.address));

    await server.kill();
    expect(server.running).toBe(false);
    await server.restart();

    expect(server.running).toBe(true);
    await expectOrphanWorkflowRunning(await connect(server.address), workflowId, customerId);
  });
});

describe('ensureSearchAttributes', () => {
  it('succeeds again, and concurrently, when the attributes are already registered', async () => {
    const connection = await connect(sharedAddress as string);

    await ensureSearchAttributes(connection, 'default');
    await ensureSearchAttributes(connection, 'default');
    await Promise.all([ensureSearchAttributes(connection, 'default'), ensureSearchAttributes(connection, 'default')]);

    const attributes = await customSearchAttributes(connection, 'default');
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) expect(attributes[name]).toBe(KEYWORD);
  });

  itWithCli('refuses an attribute that already exists with another type', async () => {
    const server = await startServer({ namespace: 'memberops-mismatch' });
    const connection = await connect(server.address);
    const namespace = 'memberops-mismatch';
    await connection.operatorService.removeSearchAttributes({ namespace, searchAttributes: ['MembershipStatus'] });
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { MembershipStatus: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT },
    });

    await expect(ensureSearchAttributes(connection, namespace)).rejects.toThrow(
      /MembershipStatus exists in namespace "memberops-mismatch" as INDEXED_VALUE_TYPE_INT/,
    );
  });
});
