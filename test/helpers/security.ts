/** Helpers of the attacker suites: captured log lines, cookies and CSRF tokens of the founder's pages. */
import { Writable } from 'node:stream';

/** A pino destination that keeps every line, to assert what never appears in the logs. */
export function captureLogs(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

/** `name=value` of the Set-Cookie header for `name`, or undefined. */
export function cookieFrom(res: Response, name: string): string | undefined {
  for (const c of res.headers.getSetCookie()) {
    const pair = c.split(';')[0] ?? '';
    if (pair.startsWith(`${name}=`)) return pair;
  }
  return undefined;
}

/** The hidden `_csrf` value of a rendered form. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF token in the page');
  return m[1];
}

export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
