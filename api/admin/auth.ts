/**
 * The founder's pages under /admin: sign-in (rate limited), sign-out, and a signed-in placeholder. A session cookie
 * is the only credential here: an app API key gets 403, and a session is never accepted where an API key is needed
 * (the cookie's path is /admin). Every state-changing request carries the session's CSRF token (csrf-sync).
 */
import { verify } from '@node-rs/argon2';
import { csrfSync } from 'csrf-sync';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Client } from '@temporalio/client';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { mountConsole, type ConsoleDeps } from './console-routes';
import { mountOperations } from './operations';
import { adminSession, ADMIN_COOKIE } from './session';
import { loginPage } from './login-page';

export interface AdminDeps {
  db: Db;
  log: Logger;
  nodeEnv: 'development' | 'production' | 'test';
  email?: string;
  passwordHash?: string;
  sessionSecret?: string;
  loginAttemptsPer15Minutes: number;
  /** True when the request carries an app API key (which gets 403 here). */
  hasApiKey: (req: Request) => boolean;
  /** The founder's console (members list, member page, operator actions). */
  console: Pick<ConsoleDeps, 'namespace' | 'temporalUiUrl' | 'maxGraceExtensionMs' | 'intercomAppId'> & {
    temporal: Client;
    metrics?: Metrics;
    /** The Operations page starts the backfill on this task queue at this Stripe request rate. */
    taskQueue: string;
    backfillRequestsPerSecond: number;
  };
}

/** A hash of a random password: failed sign-ins cost one argon2 verification whatever the email. */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$feapXkcYOAxSLpAmeJTx3w$ww/AwooKf82AKIt6AXwCTnkTnvPLd8rSnaC3pEPQTDo';

const field = (body: unknown, name: string): string => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

export function adminRouter(deps: AdminDeps): Router {
  const router = Router();
  const { generateToken, isRequestValid, revokeToken } = csrfSync({
    getTokenFromRequest: (req) => field(req.body, '_csrf') || undefined,
  });

  router.use('/admin', (req, res, next) => {
    if (deps.hasApiKey(req)) {
      res.status(403).json({ error: 'forbidden', message: 'an app API key does not open the founder pages' });
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(
    '/admin',
    helmet.contentSecurityPolicy({
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // The console's one stylesheet, served by us; still no scripts, fonts or images from anywhere.
        styleSrc: ["'self'"],
        baseUri: ["'none'"],
      },
    }),
  );
  router.use('/admin', adminSession({ db: deps.db, log: deps.log, nodeEnv: deps.nodeEnv, secret: deps.sessionSecret }));
  router.use('/admin', express.urlencoded({ extended: false, limit: '8kb' }));

  const csrf = (req: Request, res: Response, next: NextFunction): void => {
    if (isRequestValid(req)) {
      next();
      return;
    }
    res.status(403).type('text/plain').send('Forbidden: the form is missing its CSRF token or it has expired.');
  };
  const founder = (req: Request, res: Response, next: NextFunction): void => {
    if (req.session.adminEmail) {
      next();
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') res.redirect(302, '/admin/login');
    else res.status(401).type('text/plain').send('Unauthorized: sign in at /admin/login.');
  };
  const loginLimiter = rateLimit({
    windowMs: 15 * 60_000,
    limit: deps.loginAttemptsPer15Minutes,
    // Only failed attempts count: a founder who signs in is never locked out by their own successes.
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).type('text/plain').send('Too many sign-in attempts; try again in 15 minutes.');
    },
  });

  router.get('/admin/login', (req, res) => {
    if (req.session.adminEmail) return res.redirect(302, '/admin');
    res.type('html').send(loginPage({ csrfToken: generateToken(req) }));
  });

  router.post('/admin/login', loginLimiter, csrf, async (req, res, next) => {
    const email = field(req.body, 'email').trim();
    const password = field(req.body, 'password');
    const configured = Boolean(deps.email && deps.passwordHash);
    // Verify even for an unknown email, so the answer time does not tell which emails are the founder's.
    const passwordOk = await verify(deps.passwordHash ?? DUMMY_HASH, password).catch(() => false);
    const ok = configured && passwordOk && email.toLowerCase() === deps.email?.toLowerCase();
    if (!ok) {
      deps.log.warn({ ip: req.ip, configured }, 'founder sign-in failed');
      const error = configured
        ? 'Email or password is wrong.'
        : 'Founder sign-in is not configured (ADMIN_EMAIL, ADMIN_PASSWORD_HASH).';
      res
        .status(401)
        .type('html')
        .send(loginPage({ csrfToken: generateToken(req, true), error, email }));
      return;
    }
    // A new session id at sign-in: a session id planted before sign-in (fixation) is worth nothing after it.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.adminEmail = deps.email;
      deps.log.info({ ip: req.ip }, 'founder signed in');
      // Saved before answering: otherwise the redirect's headers go out first and the next request can beat the row.
      req.session.save((saveErr) => {
        if (saveErr) return next(saveErr);
        res.redirect(303, '/admin');
      });
    });
  });

  router.post('/admin/logout', founder, csrf, (req, res, next) => {
    revokeToken(req);
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie(ADMIN_COOKIE, { path: '/admin' });
      res.redirect(303, '/admin/login');
    });
  });

  mountConsole(router, { ...deps.console, db: deps.db, log: deps.log, founder, csrf, generateToken });
  mountOperations(router, { ...deps.console, db: deps.db, log: deps.log, founder, csrf, generateToken });

  // Everything else under /admin needs the founder too, and does not exist.
  router.use('/admin', founder, (_req, res) => {
    res.status(404).type('text/plain').send('Not found.');
  });
  return router;
}
