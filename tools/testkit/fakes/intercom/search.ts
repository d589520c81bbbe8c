/**
 * `POST /contacts/search`: Intercom's query language (nested AND/OR, comparison operators) over the contacts the
 * search index already sees, paged with `starting_after` cursors.
 */
import type { Json } from '../scaffold';
import { ApiError, ok, sameEmail, type IntercomRoute } from './common';
import { contactJson } from './contacts';
import type { FakeContact, IntercomWorkspace } from './workspace';

function fieldValue(c: FakeContact, field: string): unknown {
  if (field.startsWith('custom_attributes.')) return c.custom_attributes[field.slice('custom_attributes.'.length)];
  const known: Record<string, unknown> = {
    id: c.id,
    external_id: c.external_id,
    email: c.email,
    name: c.name,
    phone: c.phone,
    role: c.role,
    created_at: c.created_at,
    updated_at: c.updated_at,
    signed_up_at: c.signed_up_at,
  };
  if (!(field in known)) throw new ApiError(400, 'invalid_field', `${field} is not a searchable field`);
  return known[field];
}
function matches(c: FakeContact, q: Json): boolean {
  const { field, operator, value } = q;
  if (operator === 'AND' || operator === 'OR') {
    if (!Array.isArray(value)) throw new ApiError(400, 'parameter_invalid', `${operator} needs an array of queries`);
    const results = value.map((sub: Json) => matches(c, sub));
    return operator === 'AND' ? results.every(Boolean) : results.some(Boolean);
  }
  if (typeof field !== 'string') throw new ApiError(400, 'parameter_invalid', 'query.field is required');
  const actual = fieldValue(c, field);
  const eq = (a: unknown, b: unknown): boolean =>
    field === 'email' ? sameEmail(a as string, b as string) : (a ?? null) === (b ?? null) || String(a) === String(b);
  const text = String(actual ?? '');
  switch (operator) {
    case '=':
      return eq(actual, value);
    case '!=':
      return !eq(actual, value);
    case 'IN':
      return Array.isArray(value) && value.some((v) => eq(actual, v));
    case 'NIN':
      return Array.isArray(value) && !value.some((v) => eq(actual, v));
    case '~':
      return text.includes(String(value));
    case '!~':
      return !text.includes(String(value));
    case '^':
      return text.startsWith(String(value));
    case '$':
      return text.endsWith(String(value));
    case '>':
      return Number(actual) > Number(value);
    case '<':
      return Number(actual) < Number(value);
    default:
      throw new ApiError(400, 'parameter_invalid', `Unsupported operator ${String(operator)}`);
  }
}

export function searchRoutes(ws: IntercomWorkspace): IntercomRoute[] {
  return [
    [
      'POST',
      /^\/contacts\/search$/,
      (_p, b) => {
        const query = b.query as Json | undefined;
        if (!query || typeof query !== 'object') throw new ApiError(400, 'parameter_invalid', 'query is required');
        const pagination = (b.pagination ?? {}) as Json;
        const perPage = Math.min(Number(pagination.per_page ?? 50), 150);
        const offset =
          typeof pagination.starting_after === 'string'
            ? Number(Buffer.from(pagination.starting_after, 'base64url').toString())
            : 0;
        const found = [...ws.contacts.values()].filter((c) => c.searchableFrom <= Date.now() && matches(c, query));
        const page = found.slice(offset, offset + perPage);
        const more = offset + perPage < found.length;
        const pages: Json = {
          type: 'pages',
          page: Math.floor(offset / perPage) + 1,
          per_page: perPage,
          total_pages: Math.ceil(found.length / perPage),
        };
        if (more)
          pages.next = {
            page: Number(pages.page) + 1,
            starting_after: Buffer.from(String(offset + perPage)).toString('base64url'),
          };
        return ok({ type: 'list', data: page.map((c) => contactJson(ws, c)), total_count: found.length, pages });
      },
    ],
  ];
}
