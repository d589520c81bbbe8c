/**
 * The founder's session: express-session with its rows in PostgreSQL (connect-pg-simple), so sessions survive
 * restarts and work behind several API processes. The cookie is signed, HttpOnly, SameSite=Strict, Secure outside
 * development and test, and expires; it carries the session id only.
 */
import { randomBytes } from 'node:crypto';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';

export const ADMIN_COOKIE = 'memberops_admin';
/** A founder stays signed in this long without signing in again. */
export const ADMIN_SESSION_MS = 8 * 60 * 60 * 1000;

declare module 'express-session' {
  interface SessionData {
    /** The signed-in founder's email; absent before sign-in. */
    adminEmail?: string;
  }
}

export function adminSession(opts: {
  db: Db;
  log: Logger;
  nodeEnv: 'development' | 'production' | 'test';
  /** SESSION_SECRET; unset outside production: random per process (sessions then end with the process). */
  secret?: string;
}): RequestHandler {
  const PgStore = connectPgSimple(session);
  return session({
    name: ADMIN_COOKIE,
    secret: opts.secret ?? randomBytes(32).toString('hex'),
    store: new PgStore({
      pool: opts.db.pool,
      tableName: 'admin_sessions',
      pruneSessionInterval: 15 * 60,
      // The store's own failures (pruning expired sessions) in our log, not on stderr; none once the pool is closing.
      errorLog: (...args: unknown[]) => {
        if (!opts.db.pool.ending) opts.log.warn({ err: args.find((a) => a instanceof Error) }, 'admin session store failed');
      },
    }),
    resave: false,
    saveUninitialized: false,
    cookie: {
      httpOnly: true,
      sameSite: 'strict',
      secure: opts.nodeEnv === 'production',
      maxAge: ADMIN_SESSION_MS,
      path: '/admin',
    },
  });
}
