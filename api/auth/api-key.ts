/** The app's credential: `Authorization: Bearer <key>` against API_KEYS, compared in constant time, never logged. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The bearer token of a request, or undefined. */
function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.header('authorization') ?? '');
  return m?.[1];
}

/**
 * True when the request carries one of the keys. Equal-length digests make `timingSafeEqual` applicable to keys of
 * any length, and every key is compared, so the time taken says nothing about which key (or how much of it) matched.
 */
export function createApiKeyCheck(keys: readonly string[]): (req: Request) => boolean {
  const known = keys.map(digest);
  return (req) => {
    const given = bearer(req);
    if (given === undefined) return false;
    const d = digest(given);
    let ok = false;
    for (const k of known) ok = timingSafeEqual(d, k) || ok;
    return ok;
  };
}

/** 401 unless the request carries an app key. */
export function requireApiKey(hasApiKey: (req: Request) => boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (hasApiKey(req)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="memberops"');
    res.status(401).json({ error: 'unauthorized', message: 'an API key is required (Authorization: Bearer <key>)' });
  };
}
