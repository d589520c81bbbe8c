/** Custom data attributes of contacts, created in the workspace when missing (once per process). */
import { ApplicationFailure } from '@temporalio/activity';
import type { Intercom, IntercomClient } from 'intercom-client';
import { cachedLookup } from './cache';
import type { CallScope, IntercomCall } from './calls';

export interface AttributeDefinition {
  name: string;
  data_type: 'string' | 'date' | 'boolean';
  description: string;
}

export interface IntercomAttributes {
  /** Makes sure every attribute exists on the contact model; asked once per process while it succeeds. */
  ensure(scope: CallScope, wanted: ReadonlyArray<AttributeDefinition>): Promise<void>;
}

export function createIntercomAttributes({
  client,
  call,
}: {
  client: IntercomClient;
  call: IntercomCall;
}): IntercomAttributes {
  let ready: Promise<void> | undefined;

  async function existing(scope: CallScope): Promise<Set<string>> {
    const r = await call(scope, 'dataAttributes.list', () =>
      client.dataAttributes.list({ model: 'contact' }).withRawResponse(),
    );
    return new Set(r.ok ? (r.data.data ?? []).filter((a) => a.custom).map((a) => a.name) : []);
  }

  async function createMissing(scope: CallScope, wanted: ReadonlyArray<AttributeDefinition>): Promise<void> {
    const have = await existing(scope);
    for (const attribute of wanted) {
      if (have.has(attribute.name)) continue;
      // intercom-client 7.0.3 types CreateDataAttributeRequest without name/model, though the API requires both.
      const body: Intercom.CreateDataAttributeRequest & { name: string; model: 'contact'; description: string } = {
        ...attribute,
        model: 'contact',
      };
      const r = await call(scope, 'dataAttributes.create', () => client.dataAttributes.create(body).withRawResponse(), {
        // Another worker may have created it meanwhile (Intercom answers 400): the list below tells.
        expect: (f) => f.status === 400,
      });
      if (!r.ok && !(await existing(scope)).has(attribute.name)) {
        throw ApplicationFailure.nonRetryable(
          `Intercom refused to create the data attribute ${attribute.name}: ${r.failure.message}`,
          'Http400',
        );
      }
    }
  }

  return {
    ensure(scope, wanted) {
      ready ??= cachedLookup(
        () => createMissing(scope, wanted),
        () => (ready = undefined),
      );
      return ready;
    },
  };
}
