/** What every Intercom resource of the fake shares: its error, reply helpers and the workspace's one admin. */
import type { Json, Reply, Route } from '../scaffold';

export type IntercomRoute = Route<URLSearchParams>;

/** An error Intercom answers in its `error.list` shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
export const sameEmail = (a: string | null, b: string | null): boolean =>
  !!a && !!b && a.toLowerCase() === b.toLowerCase();
export const list = (data: unknown[], url: string): Json => ({
  type: 'list',
  data,
  url,
  total_count: data.length,
  has_more: false,
});
export const errorList = (requestId: string, code: string, message: string): Json => ({
  type: 'error.list',
  request_id: requestId,
  errors: [{ code, message }],
});

/** The workspace's admin (`from.id` of messages, `admin_id` of replies and assignments). */
export const ADMIN = {
  type: 'admin',
  id: '991267583',
  name: 'Ciaran Lee',
  email: 'admin@memberops.test',
  job_title: 'Member support',
  away_mode_enabled: false,
  away_mode_reassign: false,
  has_inbox_seat: true,
  team_ids: [5017691],
  avatar: { image_url: 'https://static.intercomassets.com/assets/default-avatars/admins/128.png' },
};

export const mustAdmin = (id: unknown): string => {
  if (String(id) !== ADMIN.id) throw new ApiError(404, 'admin_not_found', 'Admin not found');
  return ADMIN.id;
};
