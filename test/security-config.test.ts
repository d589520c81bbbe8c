/** Production refuses unsafe settings, naming the variable (issue 10); the founder's hash comes from admin:hash. */
import { verify } from '@node-rs/argon2';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../lib/config';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$suHDFfaVuilAigZ0cLVMsA$LiO3yo5tCj8kPaXNsUDMfMQPCAE0GjqqBqGB3ukjCwY';
const safe = {
  NODE_ENV: 'production',
  STRIPE_WEBHOOK_SECRET: 'whsec_live_0123456789abcdef',
  STRIPE_SECRET_KEY: 'sk_live_123',
  API_KEYS: 'old-short-key,0123456789abcdef0123456789abcdef',
  ADMIN_EMAIL: 'founder@community.test',
  ADMIN_PASSWORD_HASH: HASH,
  SESSION_SECRET: 'fedcba9876543210fedcba9876543210',
};

describe('production start-up', () => {
  it('accepts a safe production configuration', () => {
    const c = loadConfig(safe);
    expect(c.security.apiKeys).toEqual(['old-short-key', '0123456789abcdef0123456789abcdef']);
    expect(c.security.admin.email).toBe('founder@community.test');
  });

  it.each([
    ['the .env.example webhook secret', { STRIPE_WEBHOOK_SECRET: 'whsec_replace_me' }, 'STRIPE_WEBHOOK_SECRET'],
    ['a webhook secret that is not whsec_…', { STRIPE_WEBHOOK_SECRET: 'secret' }, 'STRIPE_WEBHOOK_SECRET'],
    ['no API key', { API_KEYS: undefined }, 'API_KEYS'],
    ['only short API keys', { API_KEYS: 'short,also-short' }, 'API_KEYS'],
    ['no admin hash', { ADMIN_PASSWORD_HASH: undefined }, 'ADMIN_PASSWORD_HASH'],
    ['a test-mode Stripe key', { STRIPE_SECRET_KEY: 'sk_test_123' }, 'STRIPE_SECRET_KEY'],
    ['no session secret', { SESSION_SECRET: undefined }, 'SESSION_SECRET'],
  ])('refuses %s, naming %s', (_case, change, variable) => {
    const env = { ...safe, ...change };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^  ${variable}: `, 'm'));
  });

  it('starts a production worker without the API-only credentials, but not with an unsafe webhook secret', () => {
    const worker = { NODE_ENV: 'production', STRIPE_WEBHOOK_SECRET: 'whsec_live_x', STRIPE_SECRET_KEY: 'sk_live_1' };
    expect(loadConfig(worker, { part: 'worker' }).security.apiKeys).toEqual([]);
    expect(() => loadConfig({ ...worker, STRIPE_WEBHOOK_SECRET: 'whsec_replace_me' }, { part: 'worker' })).toThrow(
      /^ {2}STRIPE_WEBHOOK_SECRET: /m,
    );
  });

  it.each([
    [{ TEMPORAL_TLS_CERT: '/certs/client.pem' }, 'TEMPORAL_TLS_KEY'],
    [{ ADMIN_PASSWORD_HASH: HASH }, 'ADMIN_EMAIL'],
    [{ ADMIN_EMAIL: 'founder@community.test', ADMIN_PASSWORD_HASH: 'plain-password' }, 'ADMIN_PASSWORD_HASH'],
  ])('refuses an incomplete credential anywhere (%o → %s)', (env, variable) => {
    expect(() => loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_x', ...env })).toThrow(new RegExp(`^  ${variable}: `, 'm'));
  });

  it('reads TRUST_PROXY as hops, a switch, or addresses and CIDRs', () => {
    const trust = (v: string) => loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_x', TRUST_PROXY: v }).security.trustProxy;
    expect(trust('2')).toBe(2);
    expect(trust('false')).toBe(false);
    expect(trust('10.0.0.0/8, loopback')).toEqual(['10.0.0.0/8', 'loopback']);
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_x' }).security.trustProxy).toEqual(['loopback']);
  });
});

describe('npm run -s admin:hash', () => {
  it('prints an argon2 hash of the password read from standard input', async () => {
    const root = path.join(__dirname, '..');
    const out = execFileSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['api/admin-hash.ts'], {
      cwd: root,
      input: 'correct horse battery staple\n',
      encoding: 'utf8',
    }).trim();
    expect(out).toMatch(/^\$argon2id\$/);
    expect(out).not.toContain('correct horse');
    expect(await verify(out, 'correct horse battery staple')).toBe(true);
  });
});
