/**
 * Stripe's list endpoints as Stripe pages them: newest first, `limit` 1..100 (default 10), `starting_after` /
 * `ending_before` cursors naming an object of the list, `has_more`, and `created` range filters.
 */
import type { Json } from '../scaffold';
import { StripeApiError } from './account';

/** Newest first; objects created in the same second keep the reverse of their insertion order, as ids do on Stripe. */
export function newestFirst(objects: Iterable<Json>): Json[] {
  return [...objects]
    .map((o, i) => ({ o, i }))
    .sort((a, b) => Number(b.o.created) - Number(a.o.created) || b.i - a.i)
    .map(({ o }) => o);
}

/** `limit` 1..100, default 10; anything else is Stripe's 400. */
export function limitOf(q: Json): number {
  const limit = q.limit === undefined ? 10 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new StripeApiError(
      400,
      'invalid_request_error',
      'Invalid integer: limit must be between 1 and 100',
      'parameter_invalid_integer',
      'limit',
    );
  }
  return limit;
}

/** `created[gte]`, `created[gt]`, `created[lte]`, `created[lt]` or `created=<epoch>`. */
export function matchesCreated(q: Json, created: number): boolean {
  const c = q.created;
  if (c === undefined) return true;
  if (typeof c === 'string') return created === Number(c);
  const r = c as Record<string, string | undefined>;
  return (
    (r.gte === undefined || created >= Number(r.gte)) &&
    (r.gt === undefined || created > Number(r.gt)) &&
    (r.lte === undefined || created <= Number(r.lte)) &&
    (r.lt === undefined || created < Number(r.lt))
  );
}

/** One page of `sorted` (already filtered, newest first), as `{ object: 'list', data, has_more, url }`. */
export function listPage(sorted: Json[], q: Json, url: string, what: string): Json {
  const limit = limitOf(q);
  let from = 0;
  let to = sorted.length;
  const cursor = (param: 'starting_after' | 'ending_before'): number => {
    const id = q[param];
    const at = sorted.findIndex((o) => o.id === id);
    if (at < 0) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `No such ${what}: '${String(id)}'`,
        'resource_missing',
        param,
      );
    }
    return at;
  };
  if (typeof q.starting_after === 'string') from = cursor('starting_after') + 1;
  else if (typeof q.ending_before === 'string') {
    to = cursor('ending_before');
    from = Math.max(0, to - limit);
  }
  const data = sorted.slice(from, Math.min(to, from + limit));
  const hasMore = typeof q.ending_before === 'string' ? from > 0 : from + data.length < to;
  return { object: 'list', data, has_more: hasMore, url };
}

/** The expansions a request asked for (`expand[]=data.subscriptions`), without the list's `data.` prefix. */
export function expansions(q: Json, prefix = 'data.'): string[] {
  const e = q.expand;
  const all = Array.isArray(e) ? e.map(String) : typeof e === 'string' ? [e] : [];
  return all.filter((x) => x.startsWith(prefix)).map((x) => x.slice(prefix.length));
}
