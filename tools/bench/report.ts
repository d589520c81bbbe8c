/** Formatting for `npm run bench`: the comparison table, the machine it ran on, and the JSON file for the lead. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CpuUsage } from './stack';

export interface Row {
  metric: string;
  memberops: number | undefined;
  baseline?: number;
  unit: 'ms' | 'ev/s' | 'req/s' | 'count' | 's' | 'per event';
  /** `lt`: memberops must stay below `target`; `gt`: above. */
  target?: { op: 'lt' | 'gt'; value: number; also?: { ok: boolean; why: string } };
}

export function fmt(v: number | undefined, unit: Row['unit']): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  if (unit === 'count') return String(Math.round(v));
  if (unit === 'per event') return v.toFixed(2);
  if (unit === 'ev/s' || unit === 'req/s') return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${unit}`;
  if (unit === 's') return `${v.toFixed(1)} s`;
  return `${v >= 100 ? Math.round(v) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms`;
}

/** memberops ÷ baseline: above 1 means slower (latency) or faster (throughput). */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !b || Number.isNaN(a) || Number.isNaN(b)) return '—';
  const r = a / b;
  return `×${r >= 10 ? r.toFixed(0) : r.toFixed(2)}`;
}

export function met(row: Row): boolean | undefined {
  if (!row.target || row.memberops === undefined || Number.isNaN(row.memberops)) return row.target ? false : undefined;
  const inRange = row.target.op === 'lt' ? row.memberops < row.target.value : row.memberops > row.target.value;
  return inRange && (row.target.also?.ok ?? true);
}

export function table(rows: Row[]): string {
  const header = ['metric', 'memberops', 'baseline', 'ratio', 'target', 'met?'];
  const body = rows.map((r) => {
    const m = met(r);
    const target = r.target ? `${r.target.op === 'lt' ? '<' : '>'} ${fmt(r.target.value, r.unit)}` : '';
    const verdict =
      m === undefined ? '' : m ? 'yes' : `NO${r.target?.also && !r.target.also.ok ? ` (${r.target.also.why})` : ''}`;
    return [
      r.metric,
      fmt(r.memberops, r.unit),
      r.baseline === undefined ? '—' : fmt(r.baseline, r.unit),
      ratio(r.memberops, r.baseline),
      target,
      verdict,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: number[];
  temporalCli?: string;
  /** Which Temporal server the run measured (dev server, or the PostgreSQL-backed cluster). */
  temporalServer?: string;
  postgres?: string;
}

export function machineInfo(temporalCli: string | undefined, postgres: string | undefined): MachineInfo {
  let cliVersion: string | undefined;
  if (temporalCli) {
    try {
      cliVersion = execFileSync(temporalCli, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      cliVersion = temporalCli;
    }
  }
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    ...(cliVersion ? { temporalCli: cliVersion } : {}),
    ...(postgres ? { postgres } : {}),
  };
}

/** Cores per role, e.g. "api 0.62 · worker 0.41 · temporal 0.55 · … (total 1.98 of 2); other: jest 0.30". */
export function cpuLine(usage: CpuUsage | undefined): string {
  if (!usage) return 'n/a';
  const { total, ...roles } = usage.cores;
  const parts = Object.entries(roles)
    .filter(([, v]) => v >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`);
  const others = usage.topOther.filter((o) => o.cores >= 0.05).map((o) => `${o.name} ${o.cores.toFixed(2)}`);
  return `${parts.join(' · ')} (total ${(total ?? 0).toFixed(2)} of ${os.availableParallelism()})${others.length ? `\n      other: ${others.join(' · ')}` : ''}`;
}

/** The command as typed: `npm run bench -- …` when run through npm. */
export function commandLine(): string {
  const args = process.argv.slice(2).join(' ');
  if (process.env['npm_lifecycle_event'] === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `tsx tools/bench/main.ts${args ? ` ${args}` : ''}`;
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Two runs' tables side by side (the dev server and the PostgreSQL-backed server), each against the bare baseline
 * measured in its own run. Rows are matched by metric name; a row only one run has shows "—" for the other.
 */
export function sideBySide(runs: Array<{ label: string; rows: Row[] }>): string {
  const metrics: string[] = [];
  for (const run of runs) for (const r of run.rows) if (!metrics.includes(r.metric)) metrics.push(r.metric);
  const header = ['metric', ...runs.flatMap((run) => [`${run.label}: memberops`, 'baseline', 'ratio', 'met?'])];
  const body = metrics.map((metric) => [
    metric,
    ...runs.flatMap((run) => {
      const r = run.rows.find((x) => x.metric === metric);
      if (!r) return ['—', '—', '—', ''];
      const m = met(r);
      return [
        fmt(r.memberops, r.unit),
        r.baseline === undefined ? '—' : fmt(r.baseline, r.unit),
        ratio(r.memberops, r.baseline),
        m === undefined ? '' : m ? 'yes' : 'NO',
      ];
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
