/**
 * Errors the API answers with a status other than 500, each mapped in one place (the error handler in `app.ts`).
 * DependencyUnavailableError (503 + Retry-After) is raised where a dependency call fails, in `lib/`.
 */
export { DependencyUnavailableError } from '../lib/dependency-errors';

/** 400: the request cannot be processed as sent; `error` is the machine-readable reason, `details` extra fields. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  constructor(
    readonly error: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** 404: the thing asked for does not exist; `body` is the answer. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly body: Record<string, unknown>) {
    super('not found');
  }
}

/** 413: the body is over the route's limit. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(readonly limit: string) {
    super(`body is larger than ${limit}`);
  }
}

/**
 * Turns body-parser's failures (told apart by their `type`) into the typed errors above, in a route's own words;
 * other errors pass on unchanged.
 */
export function typedBodyErrors(words: { limit: string; malformed: () => BadRequestError }) {
  return (err: unknown, _req: unknown, _res: unknown, next: (err: unknown) => void): void => {
    const type = (err as { type?: unknown } | null)?.type;
    if (type === 'entity.too.large') next(new PayloadTooLargeError(words.limit));
    else if (type === 'entity.parse.failed') next(words.malformed());
    else next(err);
  };
}
