/**
 * Who may call what (README "Security"). Public: the two webhooks (each authenticated by its signature), /healthz,
 * /readyz (status only). /admin/*: the founder's session (an app key gets 403). Everything else, unknown paths
 * included: the app's API key (401 without it), so nothing is reachable by forgetting to protect it.
 */
import type { Request, RequestHandler, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { requireApiKey } from './auth/api-key';

export interface Surfaces {
  /** Authenticated by their own signatures (Stripe, Intercom); mounted before the API key gate. */
  webhooks: Router[];
  /** The founder's pages: their own session and CSRF checks. */
  admin?: Router;
  hasApiKey: (req: Request) => boolean;
  memberRateLimitPerMinute: number;
}

/** The API key gate: lets /admin through to its own checks, refuses everything else without a key. */
export function apiKeyGate(hasApiKey: Surfaces['hasApiKey']): RequestHandler {
  const require = requireApiKey(hasApiKey);
  return (req, res, next) => {
    if (req.path === '/admin' || req.path.startsWith('/admin/')) next();
    else require(req, res, next);
  };
}

/** Member routes per client IP and minute; before the key check, so guessing keys is limited too. */
export function memberRateLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).json({ error: 'rate_limited', message: 'too many member requests; try again in a minute' });
    },
  });
}
