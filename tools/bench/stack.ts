/**
 * What `npm run bench` needs around its child processes (spawned by tools/testkit/children.ts): a cleanup stack that
 * runs even on error or Ctrl-C, and a per-process CPU account read from /proc (Linux), which shows where the machine's
 * cores went during each phase.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Runs registered stop functions in reverse order, each bounded, all of them even when some fail. */
export class CleanupStack {
  private readonly steps: Array<{ name: string; fn: () => Promise<void> }> = [];
  private running: Promise<string[]> | undefined;

  push(name: string, fn: () => Promise<void>): void {
    // Registered after the stack ran (Ctrl-C during start-up): undo it at once.
    if (this.running) void fn().catch(() => undefined);
    else this.steps.push({ name, fn });
  }

  /** Resolves to the failures ("name: message"); safe to call twice (the second call waits for the first). */
  run(timeoutMs = 20_000): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (const step of this.steps.splice(0).reverse()) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            step.fn(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
        } catch (err) {
          failures.push(`${step.name}: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          clearTimeout(timer);
        }
      }
      return failures;
    })();
    return this.running;
  }
}

// ---- CPU account -------------------------------------------------------------------------------------------------

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcTicks {
  comm: string;
  ppid: number;
  ticks: number;
}

export interface CpuSnapshot {
  atMs: number;
  busyTicks: number;
  procs: Map<number, ProcTicks>;
}

function readProc(pid: number): ProcTicks | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // After "pid (comm) ": state ppid ... utime (index 11) stime (index 12).
    return { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined; // the process ended between readdir and read
  }
}

/** Busy ticks of the whole machine and CPU ticks of every process; undefined off Linux. */
export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
    const busyTicks = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0);
    const procs = new Map<number, ProcTicks>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const p = readProc(Number(d));
      if (p) procs.set(Number(d), p);
    }
    return { atMs: Date.now(), busyTicks, procs };
  } catch {
    return undefined;
  }
}

export interface CpuUsage {
  /** Cores per role, plus `other` (every process without a role) and `total` (the machine). */
  cores: Record<string, number>;
  /** The biggest consumers among `other`: other people's tests, the OS. */
  topOther: Array<{ name: string; cores: number }>;
  /** Length of the window. */
  seconds: number;
}

/** CPU milliseconds per item that `roles` spent together during the window (e.g. per webhook event). */
export function cpuMsPer(usage: CpuUsage | undefined, roles: string[], items: number): number | undefined {
  if (!usage || items <= 0) return undefined;
  const cores = roles.reduce((sum, r) => sum + (usage.cores[r] ?? 0), 0);
  return (cores * usage.seconds * 1000) / items;
}

function commandOf(pid: number, comm: string): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const shown = args[0]?.endsWith('node') ? args.slice(1) : args;
    return (
      shown
        .join(' ')
        .replace(/\/work\/main\/node_modules\//g, '')
        .slice(0, 70) || comm
    );
  } catch {
    return comm;
  }
}

/** Cores used per role between two snapshots; a process counts for the nearest ancestor that has a role. */
export function cpuUsage(
  a: CpuSnapshot | undefined,
  b: CpuSnapshot | undefined,
  roles: Map<number, string>,
): CpuUsage | undefined {
  if (!a || !b || b.atMs <= a.atMs) return undefined;
  const seconds = (b.atMs - a.atMs) / 1000;
  const cores = (ticks: number): number => Math.round((ticks / CLK_TCK / seconds) * 100) / 100;
  const roleOf = (pid: number): string => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 10; hops++) {
      const role = roles.get(p);
      if (role) return role;
      p = b.procs.get(p)?.ppid;
    }
    return b.procs.get(pid)?.comm === 'postgres' ? 'postgres' : 'other';
  };
  const out: Record<string, number> = {};
  const others: Array<{ name: string; ticks: number }> = [];
  let attributed = 0;
  for (const [pid, p] of b.procs) {
    const ticks = p.ticks - (a.procs.get(pid)?.ticks ?? 0);
    const role = roleOf(pid);
    if (role === 'other') {
      if (ticks > 0) others.push({ name: commandOf(pid, p.comm), ticks });
      continue;
    }
    out[role] = (out[role] ?? 0) + ticks;
    attributed += ticks;
  }
  const busy = b.busyTicks - a.busyTicks;
  out['other'] = Math.max(0, busy - attributed);
  out['total'] = busy;
  return {
    cores: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, cores(v)])),
    topOther: others
      .sort((x, y) => y.ticks - x.ticks)
      .slice(0, 3)
      .map((o) => ({ name: o.name, cores: cores(o.ticks) })),
    seconds,
  };
}
