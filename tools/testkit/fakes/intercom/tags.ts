/** Intercom tags: listed, created or renamed by name, applied to and removed from contacts. */
import { now, type Json } from '../scaffold';
import { ADMIN, ApiError, ok, str, type IntercomRoute } from './common';
import type { FakeTag, IntercomWorkspace } from './workspace';

/** A tag as Intercom shows it on the thing it was applied to. */
export const appliedTag = (t: FakeTag): Json => ({
  type: 'tag',
  id: t.id,
  name: t.name,
  applied_at: now(),
  applied_by: { type: 'admin', id: ADMIN.id },
});

export function tagRoutes(ws: IntercomWorkspace): IntercomRoute[] {
  return [
    [
      'GET',
      /^\/tags$/,
      () => ok({ type: 'list', data: [...ws.tags.values()].map((t) => ({ type: 'tag', id: t.id, name: t.name })) }),
    ],
    [
      'POST',
      /^\/tags$/,
      (_p, b) => {
        const name = str(b.name);
        if (!name || b.companies !== undefined || b.users !== undefined) {
          throw new ApiError(400, 'parameter_invalid', 'The fake supports creating or renaming a tag by name only');
        }
        let t = b.id !== undefined ? ws.mustTag(b.id) : [...ws.tags.values()].find((x) => x.name === name);
        if (t) t.name = name;
        else ws.tags.set((t = { id: ws.nextId(100), name }).id, t);
        return ok({ type: 'tag', id: t.id, name: t.name });
      },
    ],
    [
      'POST',
      /^\/contacts\/(?<id>[^/]+)\/tags$/,
      (p, b) => {
        const c = ws.mustContact(p.id);
        const t = ws.mustTag(b.id);
        ws.contactTags.set(c.id, (ws.contactTags.get(c.id) ?? new Set()).add(t.id));
        return ok(appliedTag(t));
      },
    ],
    [
      'DELETE',
      /^\/contacts\/(?<id>[^/]+)\/tags\/(?<tagId>[^/]+)$/,
      (p) => {
        const c = ws.mustContact(p.id);
        const t = ws.mustTag(p.tagId);
        ws.contactTags.get(c.id)?.delete(t.id);
        return ok(appliedTag(t));
      },
    ],
  ];
}
