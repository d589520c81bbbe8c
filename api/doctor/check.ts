/** One line of the launch-readiness checklist: what was checked, what was found, and how to fix a failure. */
export type CheckStatus = 'ok' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id of the check (`stripe.endpoint.events`), the first word of its line. */
  id: string;
  status: CheckStatus;
  /** What was found, in a sentence; never a secret. */
  detail: string;
  /** What to do about a failure (or a skip). */
  fix?: string;
}

export const ok = (id: string, detail: string): CheckResult => ({ id, status: 'ok', detail });
export const fail = (id: string, detail: string, fix: string): CheckResult => ({ id, status: 'fail', detail, fix });
export const skip = (id: string, detail: string, fix?: string): CheckResult => ({ id, status: 'skip', detail, fix });

/** An error's message without its stack, for a checklist line. */
export const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

/** Rejects after `ms`: every network check is bounded so the doctor always finishes. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', fail: 'FAIL', skip: 'skip' };

/** The checklist as printed: `FAIL stripe.endpoint.events  …` and, under a failure, `     fix: …`. */
export function formatChecklist(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.id.length));
  const lines = results.flatMap((r) => [
    `${MARK[r.status]} ${r.id.padEnd(width)}  ${r.detail}`,
    ...(r.fix && r.status !== 'ok' ? [`${' '.repeat(5)}fix: ${r.fix}`] : []),
  ]);
  const failed = results.filter((r) => r.status === 'fail').length;
  lines.push(failed === 0 ? 'Ready: every check passed.' : `Not ready: ${failed} check(s) failed.`);
  return `${lines.join('\n')}\n`;
}
