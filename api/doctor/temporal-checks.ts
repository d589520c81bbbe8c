/** Temporal: the frontend answers, the namespace exists, memberops' search attributes are registered, a worker polls. */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../lib/config';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes';
import { temporalConnectionSettings } from '../../lib/temporal';
import { fail, ok, reason, skip, within, type CheckResult } from './check';

const { IndexedValueType, TaskQueueType } = temporal.api.enums.v1;
const GRPC_NOT_FOUND = 5;
const TIMEOUT_MS = 5000;

export async function temporalChecks(config: Config['temporal']): Promise<CheckResult[]> {
  const later = ['temporal.namespace', 'temporal.search_attributes', 'temporal.worker'];
  if (!config.address) {
    return [
      fail(
        'temporal.connection',
        'TEMPORAL_ADDRESS is not set',
        'Set TEMPORAL_ADDRESS to your Temporal frontend (host:7233), as the worker and API use it.',
      ),
      ...later.map((id) => skip(id, 'Temporal not reachable')),
    ];
  }
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionSettings(config), connectTimeout: '5s' });
  } catch (err) {
    return [
      fail(
        'temporal.connection',
        `cannot reach ${config.address}: ${reason(err)}`,
        'Start Temporal or fix TEMPORAL_ADDRESS and its TLS settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY).',
      ),
      ...later.map((id) => skip(id, 'Temporal not reachable')),
    ];
  }
  const { namespace, taskQueue } = config;
  try {
    const results: CheckResult[] = [ok('temporal.connection', `${config.address} answers`)];
    try {
      await within(connection.workflowService.describeNamespace({ namespace }), TIMEOUT_MS, 'DescribeNamespace');
      results.push(ok('temporal.namespace', `namespace "${namespace}" exists`));
    } catch (err) {
      const missing = isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND;
      results.push(
        fail(
          'temporal.namespace',
          missing
            ? `namespace "${namespace}" does not exist`
            : `cannot describe namespace "${namespace}": ${reason(err)}`,
          `Create it: temporal operator namespace create --namespace ${namespace} (or fix TEMPORAL_NAMESPACE).`,
        ),
        ...later.slice(1).map((id) => skip(id, 'no namespace')),
      );
      return results;
    }
    results.push(await searchAttributeCheck(connection, namespace));
    results.push(await pollerCheck(connection, namespace, taskQueue));
    return results;
  } finally {
    await connection.close();
  }
}

async function searchAttributeCheck(connection: Connection, namespace: string): Promise<CheckResult> {
  const id = 'temporal.search_attributes';
  try {
    const listed =
      (await within(connection.operatorService.listSearchAttributes({ namespace }), TIMEOUT_MS, 'ListSearchAttributes'))
        .customAttributes ?? {};
    const wrong = Object.entries(SEARCH_ATTRIBUTES).filter(
      ([name, type]) =>
        listed[name] !== IndexedValueType[`INDEXED_VALUE_TYPE_${type.toUpperCase()}` as keyof typeof IndexedValueType],
    );
    if (wrong.length === 0) return ok(id, `${Object.keys(SEARCH_ATTRIBUTES).join(', ')} registered`);
    const add = wrong.map(
      ([name, type]) =>
        `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`,
    );
    return fail(
      id,
      `missing or of another type: ${wrong.map(([name, type]) => `${name} (${type})`).join(', ')}`,
      add.join('; '),
    );
  } catch (err) {
    return fail(
      id,
      `cannot list search attributes: ${reason(err)}`,
      'The doctor needs the operator API of the frontend (ListSearchAttributes).',
    );
  }
}

async function pollerCheck(connection: Connection, namespace: string, taskQueue: string): Promise<CheckResult> {
  const id = 'temporal.worker';
  try {
    const resp = await within(
      connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
      TIMEOUT_MS,
      'DescribeTaskQueue',
    );
    const pollers = resp.pollers?.length ?? 0;
    return pollers > 0
      ? ok(id, `${pollers} worker poller(s) on task queue "${taskQueue}"`)
      : fail(
          id,
          `no worker polls task queue "${taskQueue}"`,
          'Start `npm run worker` with the same TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE.',
        );
  } catch (err) {
    return fail(
      id,
      `cannot describe task queue "${taskQueue}": ${reason(err)}`,
      'Check the Temporal frontend and TEMPORAL_TASK_QUEUE.',
    );
  }
}
