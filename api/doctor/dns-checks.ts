/**
 * The sender domain's mail authentication records, read with node's DNS resolver (DOCTOR_DNS_SERVERS, else the
 * system's): one SPF record within RFC 7208's 10-lookup limit and not `+all`, a DKIM key at the selector, one DMARC
 * policy.
 */
import { Resolver } from 'node:dns/promises';
import type { Config } from '../../lib/config';
import { fail, ok, reason, skip, type CheckResult } from './check';

/** RFC 7208 §4.6.4: more DNS-querying terms than this is a permanent error, and receivers treat the mail as unauthenticated. */
export const SPF_LOOKUP_LIMIT = 10;

type TxtLookup = (name: string) => Promise<string[]>;

function txtLookup(servers: string[]): TxtLookup {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  return async (name) => {
    try {
      // A TXT record may come in several strings; they form one value (RFC 7208 §3.3).
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
      throw err;
    }
  };
}

const spfRecords = (txt: string[]): string[] => txt.filter((t) => /^v=spf1(\s|$)/i.test(t));

/** Counts the DNS-querying terms of an SPF record, following include: and redirect=; throws on a broken include. */
async function spfLookups(lookup: TxtLookup, record: string, seen: Set<string>): Promise<number> {
  let count = 0;
  for (const term of record.split(/\s+/).slice(1)) {
    const t = term.replace(/^[+\-~?]/, '').toLowerCase();
    const target = /^include:(.+)$/.exec(t)?.[1] ?? /^redirect=(.+)$/.exec(t)?.[1];
    if (target) {
      count += 1;
      if (seen.has(target)) throw new Error(`${target} is included twice (a loop)`);
      seen.add(target);
      const nested = spfRecords(await lookup(target));
      if (nested.length !== 1) throw new Error(`${t} points to ${target}, which has ${nested.length} SPF records`);
      count += await spfLookups(lookup, nested[0] as string, seen);
    } else if (/^(a|mx|ptr|exists)([:/]|$)/.test(t)) count += 1;
  }
  return count;
}

async function spfCheck(lookup: TxtLookup, domain: string): Promise<CheckResult> {
  const id = 'mail.spf';
  const records = spfRecords(await lookup(domain));
  if (records.length === 0)
    return fail(
      id,
      `${domain} has no SPF record`,
      `Add a TXT record on ${domain}: "v=spf1 include:<your mail provider's SPF domain> ~all" (Intercom: Settings → Channels → Email → Domains).`,
    );
  if (records.length > 1)
    return fail(
      id,
      `${domain} has ${records.length} SPF records (receivers reject them all)`,
      'Merge them into one "v=spf1 … ~all" record.',
    );
  const record = records[0] as string;
  if (/\s\+?all(\s|$)/i.test(record))
    return fail(id, `SPF of ${domain} ends in +all: anyone may send as ${domain}`, 'End the record with ~all or -all.');
  let lookups: number;
  try {
    lookups = await spfLookups(lookup, record, new Set([domain]));
  } catch (err) {
    return fail(id, `SPF of ${domain} is broken: ${reason(err)}`, 'Fix the include: targets of the record.');
  }
  if (lookups > SPF_LOOKUP_LIMIT)
    return fail(
      id,
      `SPF of ${domain} needs ${lookups} DNS lookups, above the limit of ${SPF_LOOKUP_LIMIT}: receivers treat it as an error`,
      'Remove include:s of services that no longer send for you, or replace them by ip4:/ip6: ranges.',
    );
  return ok(id, `one SPF record, ${lookups} DNS lookup(s) of ${SPF_LOOKUP_LIMIT}`);
}

/** `k=v; k=v` tags of DKIM and DMARC records. */
const tags = (record: string): Map<string, string> =>
  new Map(
    record
      .split(';')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => [p.split('=')[0]?.trim().toLowerCase() ?? '', p.slice(p.indexOf('=') + 1).trim()]),
  );

async function dkimCheck(lookup: TxtLookup, domain: string, selector: string): Promise<CheckResult> {
  const id = 'mail.dkim';
  const name = `${selector}._domainkey.${domain}`;
  const fix = `Publish the DKIM record your mail provider gives for selector "${selector}" at ${name} (or set MAIL_DKIM_SELECTOR to the selector you use).`;
  const keys = (await lookup(name)).map(tags).filter((t) => t.has('p'));
  if (keys.length === 0) return fail(id, `no DKIM key at ${name}`, fix);
  const key = keys[0] as Map<string, string>;
  if (!key.get('p')) return fail(id, `the DKIM key at ${name} is revoked (empty p=)`, fix);
  if (!/^[A-Za-z0-9+/=\s]+$/.test(key.get('p') as string))
    return fail(id, `the DKIM key at ${name} is not base64`, fix);
  return ok(id, `DKIM key at ${name} (${key.get('k') ?? 'rsa'})`);
}

async function dmarcCheck(lookup: TxtLookup, domain: string): Promise<CheckResult> {
  const id = 'mail.dmarc';
  const name = `_dmarc.${domain}`;
  const records = (await lookup(name)).filter((t) => /^v=DMARC1\s*(;|$)/i.test(t));
  const fix = `Add a TXT record at ${name}: "v=DMARC1; p=quarantine; rua=mailto:dmarc@${domain}" (start with p=none to watch the reports first).`;
  if (records.length === 0) return fail(id, `${domain} has no DMARC record at ${name}`, fix);
  if (records.length > 1)
    return fail(id, `${name} has ${records.length} DMARC records (receivers ignore them all)`, 'Keep one.');
  const policy = tags(records[0] as string)
    .get('p')
    ?.toLowerCase();
  if (!policy || !['none', 'quarantine', 'reject'].includes(policy))
    return fail(id, `the DMARC record of ${domain} has no valid policy (p=${policy ?? ''})`, fix);
  return ok(
    id,
    `DMARC policy p=${policy}${policy === 'none' ? ' (reports only: consider quarantine once they are clean)' : ''}`,
  );
}

export async function mailDnsChecks(mail: Config['mail'], dnsServers: string[]): Promise<CheckResult[]> {
  const ids = ['mail.spf', 'mail.dkim', 'mail.dmarc'];
  if (!mail.senderDomain) {
    return [
      fail(
        'mail.spf',
        'MAIL_SENDER_DOMAIN is not set',
        'Set MAIL_SENDER_DOMAIN to the domain member notices are sent from.',
      ),
      ...ids.slice(1).map((id) => skip(id, 'no sender domain')),
    ];
  }
  const lookup = txtLookup(dnsServers);
  const domain = mail.senderDomain.toLowerCase();
  const guard = async (id: string, check: () => Promise<CheckResult>): Promise<CheckResult> => {
    try {
      return await check();
    } catch (err) {
      return fail(id, `DNS lookup failed: ${reason(err)}`, 'Check DOCTOR_DNS_SERVERS or the network.');
    }
  };
  return Promise.all([
    guard('mail.spf', () => spfCheck(lookup, domain)),
    guard('mail.dkim', () => dkimCheck(lookup, domain, mail.dkimSelector)),
    guard('mail.dmarc', () => dmarcCheck(lookup, domain)),
  ]);
}
