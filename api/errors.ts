/** Errors the API answers with 503 + Retry-After: a dependency is briefly unavailable, not a bug. */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: 'postgres' | 'temporal' | 'stripe' | 'intercom',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
