import type { Connection } from '@temporalio/client';
import { isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** Custom search attributes memberops writes, in the type names `temporal server start-dev --search-attribute` takes. */
export const SEARCH_ATTRIBUTES = {
  MembershipStatus: 'Keyword',
  StripeCustomerId: 'Keyword',
} as const;

type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

type CliSearchAttributeType = (typeof SEARCH_ATTRIBUTES)[SearchAttributeName];

const { IndexedValueType } = temporal.api.enums.v1;

const INDEXED_VALUE_TYPES: Record<CliSearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
};

// gRPC status codes (google.rpc.Code); @grpc/grpc-js is not a direct dependency, so they are spelled out here.
const GRPC_ALREADY_EXISTS = 6;
const GRPC_INVALID_ARGUMENT = 3;

interface EnsureSearchAttributesOptions {
  /** How long to wait for the attributes to become visible in `listSearchAttributes`. */
  timeoutMs?: number;
}

/** The `--search-attribute KEY=Type` arguments for `temporal server start-dev`. */
export function searchAttributeCliArgs(): string[] {
  return Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
}

/**
 * Registers SEARCH_ATTRIBUTES in `namespace` and waits until the server lists them.
 *
 * Idempotent and safe to run concurrently from several processes: attributes already present with the right type are
 * skipped, and an "already exists" answer (another process won the race) counts as success. The dev server ignores
 * `--search-attribute` when it reopens an existing `--db-filename`, so every start-up calls this.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  log?: (msg: string) => void,
  opts: EnsureSearchAttributesOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const wanted = Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => ({
    name,
    type,
    indexedType: INDEXED_VALUE_TYPES[type],
  }));

  const existing = await listCustomAttributes(connection, namespace);
  const missing = wanted.filter((attr) => {
    const current = existing[attr.name];
    if (current === undefined) return true;
    if (current !== attr.indexedType) {
      // Changing an attribute's type is not possible in place; a silent mismatch would break every visibility query.
      throw new Error(
        `Search attribute ${attr.name} exists in namespace "${namespace}" as ${IndexedValueType[current]}, ` +
          `but memberops needs ${attr.type}. Remove it (temporal operator search-attribute remove) or use another namespace.`,
      );
    }
    return false;
  });
  if (missing.length === 0) return;

  log?.(`Registering search attributes ${missing.map((a) => `${a.name}=${a.type}`).join(', ')} in "${namespace}"`);
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, a.indexedType])),
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    log?.(`Search attributes were registered concurrently in "${namespace}"`);
  }

  // Registration is asynchronous on some servers (an internal workflow adds them); wait until they are usable.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = await listCustomAttributes(connection, namespace);
    const notYet = missing.filter((a) => listed[a.name] !== a.indexedType);
    if (notYet.length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `Search attributes ${notYet.map((a) => a.name).join(', ')} were not visible in namespace "${namespace}" ` +
          `after ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function listCustomAttributes(
  connection: Connection,
  namespace: string,
): Promise<Record<string, temporal.api.enums.v1.IndexedValueType>> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  return response.customAttributes ?? {};
}

function isAlreadyExists(err: unknown): boolean {
  if (!isGrpcServiceError(err)) return false;
  if (err.code === GRPC_ALREADY_EXISTS) return true;
  // Older servers answer a duplicate registration with InvalidArgument "... already exists".
  return err.code === GRPC_INVALID_ARGUMENT && /already exists/i.test(err.details ?? err.message);
}
