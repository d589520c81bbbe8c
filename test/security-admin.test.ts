/**
 * The founder's pages under attack (issue 10), over real sockets: app keys, forged and expired session cookies,
 * missing CSRF tokens, sign-in guessing, and what the logs never carry.
 */
import { waitFor } from './helpers/wait-for';
import { hash } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { ADMIN_COOKIE } from '../api/admin/session';
import { startHarness, type Harness } from './helpers/harness';
import { captureLogs, cookieFrom, csrfFrom, form } from './helpers/security';

const EMAIL = 'founder@community.test';
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const logs = captureLogs();
let passwordHash: string;
let h: Harness;
const cookiesSeen: string[] = [];

beforeAll(async () => {
  passwordHash = await hash(PASSWORD);
  h = await startHarness({
    noWorker: true,
    env: {
      LOG_LEVEL: 'info',
      ADMIN_EMAIL: EMAIL,
      ADMIN_PASSWORD_HASH: passwordHash,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      ADMIN_LOGIN_ATTEMPTS_PER_15_MINUTES: '3',
    },
    logDestination: logs.stream,
  });
});

afterAll(async () => {
  await h?.close();
});

const page = (path: string, init: RequestInit & { cookie?: string; ip?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set('cookie', init.cookie);
  headers.set('x-forwarded-for', init.ip ?? '198.51.100.200');
  return fetch(`${h.api.url}${path}`, { ...init, headers, redirect: 'manual' });
};

/** The login form's session cookie and CSRF token. */
async function loginForm(ip?: string): Promise<{ cookie: string; csrf: string }> {
  const res = await page('/admin/login', { ip });
  expect(res.status).toBe(200);
  const cookie = cookieFrom(res, ADMIN_COOKIE);
  if (!cookie) throw new Error('the login page set no session cookie');
  cookiesSeen.push(cookie);
  return { cookie, csrf: csrfFrom(await res.text()) };
}

const post = (path: string, cookie: string | undefined, fields: Record<string, string>, ip?: string) =>
  page(path, {
    method: 'POST',
    cookie,
    ip,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form(fields),
  });

/** Signs the founder in; the signed-in session cookie. */
async function signIn(): Promise<string> {
  const { cookie, csrf } = await loginForm();
  const res = await post('/admin/login', cookie, { _csrf: csrf, email: EMAIL, password: PASSWORD });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/admin');
  const signedIn = cookieFrom(res, ADMIN_COOKIE);
  if (!signedIn) throw new Error('no session cookie after sign-in');
  cookiesSeen.push(signedIn);
  // express-session sends the headers first and ends the body once the session row is saved or touched: read to
  // the end, so that no write of this request lands after the caller's next step (an expiry set by a test).
  await res.text();
  return signedIn;
}

describe('founder sign-in', () => {
  it('signs the founder in with a signed, HttpOnly, SameSite=Strict, expiring cookie under a strict CSP', async () => {
    const cookie = await signIn();
    const res = await page('/admin', { cookie });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(EMAIL);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const { cookie: before, csrf } = await loginForm();
    const signedIn = await post('/admin/login', before, { _csrf: csrf, email: EMAIL, password: PASSWORD });
    const signed = signedIn.headers.getSetCookie().find((c) => c.startsWith(`${ADMIN_COOKIE}=`)) ?? '';
    cookiesSeen.push(signed.split(';')[0] as string);
    // A new session id at sign-in: the one handed out with the form is worth nothing afterwards.
    expect(signed.split(';')[0]).not.toBe(before);
    expect(signed).toMatch(/HttpOnly/i);
    expect(signed).toMatch(/SameSite=Strict/i);
    expect(signed).toMatch(/Expires=/i);
    expect(signed).toMatch(/Path=\/admin/);
    expect(signed).toMatch(new RegExp(`^${ADMIN_COOKIE}=s%3A`));
  });

  it('answers an app API key on /admin/* with 403', async () => {
    for (const path of ['/admin', '/admin/login', '/admin/anything']) {
      const res = await page(path, { headers: { authorization: `Bearer ${h.apiKey}` } });
      expect(res.status).toBe(403);
    }
  });

  it('sends a visitor without a session to the sign-in page, and refuses their POSTs (401)', async () => {
    const res = await page('/admin');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/admin/login');
    expect((await post('/admin/logout', undefined, {})).status).toBe(401);
  });

  it('treats a forged or tampered session cookie as no session', async () => {
    const real = await signIn();
    const [name, value] = real.split('=') as [string, string];
    const tampered = `${name}=${value.slice(0, -3)}${value.endsWith('abc') ? 'xyz' : 'abc'}`;
    for (const cookie of [`${ADMIN_COOKIE}=s%3Aforged.${randomBytes(20).toString('base64url')}`, tampered]) {
      const res = await page('/admin', { cookie });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/admin/login');
      expect((await post('/admin/logout', cookie, {})).status).toBe(401);
    }
  });

  it('treats an expired session as no session', async () => {
    const cookie = await signIn();
    const sid = decodeURIComponent(cookie.split('=')[1] as string)
      .slice(2)
      .split('.')[0] as string;
    // The session row may land just after the sign-in's answer: expire it once it is there.
    await waitFor(
      async () =>
        (
          await h.db.query(
            `UPDATE admin_sessions SET expire = now() - interval '1 minute' WHERE sid = $1 RETURNING sid`,
            [sid],
          )
        ).length === 1,
      { description: 'the signed-in session row, expired' },
    );
    const res = await page('/admin', { cookie });
    expect(res.status).toBe(302);
  });

  it('refuses a sign-in without the CSRF token (403)', async () => {
    const { cookie } = await loginForm();
    expect((await post('/admin/login', cookie, { email: EMAIL, password: PASSWORD })).status).toBe(403);
    expect((await post('/admin/login', undefined, { _csrf: 'x', email: EMAIL, password: PASSWORD })).status).toBe(403);
  });

  it('refuses an admin POST without the CSRF token (403), and signs out with it', async () => {
    const cookie = await signIn();
    expect((await post('/admin/logout', cookie, {})).status).toBe(403);
    expect((await post('/admin/logout', cookie, { _csrf: 'not-the-token' })).status).toBe(403);
    expect((await page('/admin', { cookie })).status).toBe(200);
    const csrf = csrfFrom(await (await page('/admin', { cookie })).text());
    const out = await post('/admin/logout', cookie, { _csrf: csrf });
    expect(out.status).toBe(303);
    expect((await page('/admin', { cookie })).status).toBe(302);
  });

  it('is not an API key: a founder session cookie gets 401 from the app routes', async () => {
    const cookie = await signIn();
    const res = await fetch(`${h.api.url}/members/cus_anyone`, { headers: { cookie } });
    expect(res.status).toBe(401);
  });

  it('refuses a wrong password (401) and limits sign-in attempts per client (429)', async () => {
    const ip = '203.0.113.99';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { cookie, csrf } = await loginForm(ip);
      statuses.push(
        (await post('/admin/login', cookie, { _csrf: csrf, email: EMAIL, password: `${PASSWORD}-wrong` }, ip)).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('never writes the password, its hash or a session cookie into a log line', () => {
    expect(logs.lines.some((l) => /founder signed in/.test(l))).toBe(true);
    const values = cookiesSeen.map((c) => c.split('=')[1] as string);
    for (const secret of [PASSWORD, passwordHash, h.apiKey, ...values, ...values.map(decodeURIComponent)]) {
      expect(logs.lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});
