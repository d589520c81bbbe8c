/** Intercom admins: the workspace's one admin (`GET /admins`) and the token's own identity (`GET /me`). */
import { ADMIN, ok, type IntercomRoute } from './common';

export function adminRoutes(): IntercomRoute[] {
  return [
    ['GET', /^\/admins$/, () => ok({ type: 'admin.list', admins: [ADMIN] })],
    [
      'GET',
      /^\/me$/,
      () => {
        const { id, name, email, away_mode_enabled, away_mode_reassign, has_inbox_seat } = ADMIN;
        const me = { type: 'admin', id, name, email, away_mode_enabled, away_mode_reassign, has_inbox_seat };
        const app = {
          type: 'app',
          id_code: 'fake0app',
          name: 'memberops (fake)',
          created_at: 1_600_000_000,
          secure: false,
          identity_verification: false,
          timezone: 'UTC',
          region: 'US',
        };
        return ok({ ...me, email_verified: true, avatar: { type: 'avatar', ...ADMIN.avatar }, app });
      },
    ],
  ];
}
