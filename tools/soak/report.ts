/** The soak's report: numbers for the JSON file and a table for humans. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CheckResult, Mismatch } from './checker';
import type { FaultRecord } from './faults';
import type { Plan } from './generator';
import type { ExpectedMember } from './oracle';
import type { SoakDunningPolicy, SoakOptions } from './options';
import type { DeliveryCounts, SenderStats } from './sender';

export interface Percentiles {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: null, p99: null, max: null };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  return {
    count: s.length,
    p50: Math.round(at(0.5)),
    p99: Math.round(at(0.99)),
    max: Math.round(s[s.length - 1] as number),
  };
}

export interface SoakReport {
  ok: boolean;
  /** Why the run failed (mismatches, a crash of the harness, a deadline). */
  failure: string | null;
  startedAt: string;
  options: {
    members: number;
    days: number;
    speedup: number;
    seed: number;
    faults: string[];
    crm: boolean;
    duplicateRate: number;
    lateRate: number;
    historyLimit: number;
    dunning: SoakDunningPolicy;
    dayMs: number;
  };
  durationsMs: { setup: number; month: number; deliveries: number; settle: number; total: number };
  events: {
    unique: number;
    deliveries: number;
    duplicates: number;
    late: number;
    handled: number;
    unhandled: number;
    byType: Record<string, number>;
  };
  webhooks: DeliveryCounts & { outcomes: Record<string, number> };
  latencyMs: {
    ack: Percentiles;
    sendLag: Percentiles;
    workflow: Percentiles;
    projection: Percentiles;
    crmSync: Percentiles;
  };
  faults: Array<
    Omit<FaultRecord, 'plannedAt' | 'startedAt' | 'endedAt' | 'recoveredAt'> & {
      atS: number;
      backAfterMs: number | null;
      caughtUpAfterMs: number | null;
    }
  >;
  settle: { settled: boolean; afterLastFaultMs: number | null; afterLastActivityMs: number | null; checks: number };
  processes: {
    worker: { peakRssMb: number; starts: number; unexpectedExits: number };
    api: { peakRssMb: number; starts: number; unexpectedExits: number };
  };
  history: {
    workflows: number;
    runs: number;
    continuedAsNew: number;
    eventsPerMember: Percentiles;
    totalEvents: number;
  };
  finalStatuses: Record<string, number>;
  stories: Record<string, number>;
  check: {
    mismatches: number;
    byCategory: Record<string, number>;
    lostEvents: number;
    /** Events whose final stripe_events status disagrees with what the member workflow applied. */
    wrongStatuses: number;
    duplicatedEffects: number;
    disagreements: number;
    timingViolations: number;
    timingSamples: string[];
    /** Members with a deadline within an activation's few-millisecond clock window (their order was a guess). */
    clockAmbiguous: string[];
    redundantTagCalls: number;
    samples: Mismatch[];
  };
}

export interface ReportInputs {
  o: SoakOptions;
  plan: Plan;
  startedAt: number;
  setupMs: number;
  sender: SenderStats;
  outcomes: Record<string, number>;
  faults: FaultRecord[];
  expected: Map<string, ExpectedMember>;
  check: CheckResult | undefined;
  checks: number;
  settledAt: number | undefined;
  lastActivityAt: number;
  deliveriesDoneAt: number;
  lags: { workflow: number[]; projection: number[]; crmSync: number[] };
  processes: SoakReport['processes'];
  history: SoakReport['history'];
  failure: string | null;
}

export function buildReport(i: ReportInputs): SoakReport {
  const byType: Record<string, number> = {};
  for (const d of i.plan.deliveries) if (!d.duplicate) byType[d.type] = (byType[d.type] ?? 0) + 1;
  const finalStatuses: Record<string, number> = {};
  const stories: Record<string, number> = {};
  for (const e of i.expected.values()) finalStatuses[e.status] = (finalStatuses[e.status] ?? 0) + 1;
  for (const m of i.plan.members) for (const l of m.labels) stories[l] = (stories[l] ?? 0) + 1;
  const lastFault = [...i.faults].reverse().find((f) => f.endedAt !== undefined);
  const c = i.check;
  const mismatches = c?.mismatches.length ?? -1;
  const disagreements = c
    ? c.mismatches.filter((m) => m.category !== 'lost-event' && m.category !== 'duplicated-effect').length
    : -1;
  const failure =
    i.failure ??
    (!c
      ? 'no check ran'
      : mismatches > 0
        ? `${mismatches} mismatch(es)`
        : i.sender.gaveUp > 0
          ? `${i.sender.gaveUp} deliveries given up`
          : null);
  const now = Date.now();
  return {
    ok: failure === null,
    failure,
    startedAt: new Date(i.startedAt).toISOString(),
    options: {
      members: i.o.members,
      days: i.o.days,
      speedup: i.o.speedup,
      seed: i.o.seed,
      faults: i.o.faults,
      crm: i.o.crm,
      duplicateRate: i.o.duplicateRate,
      lateRate: i.o.lateRate,
      historyLimit: i.o.historyLimit,
      dunning: i.plan.policy,
      dayMs: Math.round(i.plan.dayMs),
    },
    durationsMs: {
      setup: i.setupMs,
      month: Math.round(i.plan.monthEndMs - i.plan.t0),
      deliveries: i.deliveriesDoneAt - i.plan.t0,
      settle: i.settledAt ? i.settledAt - i.lastActivityAt : now - i.lastActivityAt,
      total: now - i.startedAt,
    },
    events: { ...i.plan.counts, unique: i.plan.counts.events, byType },
    webhooks: {
      attempts: i.sender.attempts,
      acked: i.sender.acked,
      answered5xx: i.sender.answered5xx,
      answered4xx: i.sender.answered4xx,
      noAnswer: i.sender.noAnswer,
      retries: i.sender.retries,
      gaveUp: i.sender.gaveUp,
      byError: i.sender.byError,
      outcomes: i.outcomes,
    },
    latencyMs: {
      ack: percentiles(i.sender.ackLatencyMs),
      sendLag: percentiles(i.sender.sendLagMs),
      workflow: percentiles(i.lags.workflow),
      projection: percentiles(i.lags.projection),
      crmSync: percentiles(i.lags.crmSync),
    },
    faults: i.faults.map((f) => ({
      kind: f.kind,
      detail: f.detail,
      ...(f.error ? { error: f.error } : {}),
      atS: Math.round((f.startedAt - i.plan.t0) / 100) / 10,
      backAfterMs: f.endedAt !== undefined ? f.endedAt - f.startedAt : null,
      caughtUpAfterMs: f.recoveredAt !== undefined ? f.recoveredAt - f.startedAt : null,
    })),
    settle: {
      settled: i.settledAt !== undefined,
      afterLastFaultMs:
        lastFault?.endedAt !== undefined && lastFault.recoveredAt !== undefined
          ? lastFault.recoveredAt - lastFault.endedAt
          : null,
      afterLastActivityMs: i.settledAt !== undefined ? i.settledAt - i.lastActivityAt : null,
      checks: i.checks,
    },
    processes: i.processes,
    history: i.history,
    finalStatuses,
    stories,
    check: {
      mismatches,
      byCategory: c?.byCategory ?? {},
      lostEvents: c?.lostEvents ?? -1,
      wrongStatuses: c?.wrongStatuses ?? -1,
      duplicatedEffects: c?.duplicatedEffects ?? -1,
      disagreements,
      timingViolations: c?.timingViolations ?? -1,
      timingSamples: c?.timingSamples ?? [],
      clockAmbiguous: [...i.expected.values()]
        .filter((e) => e.clockAmbiguities.length > 0)
        .map((e) => `${e.customerId}: ${e.clockAmbiguities.join('; ')}`),
      redundantTagCalls: c?.redundantTagCalls ?? -1,
      samples: c?.mismatches.slice(0, 20) ?? [],
    },
  };
}

const fmt = (v: number | null | undefined, unit = ''): string =>
  v === null || v === undefined ? '-' : `${v.toLocaleString('en-US')}${unit}`;
const pct = (p: Percentiles, unit = ' ms'): string =>
  p.count ? `p50 ${fmt(p.p50, unit)}, p99 ${fmt(p.p99, unit)}, max ${fmt(p.max, unit)} (n=${p.count})` : '-';

/** The report as an aligned two-column table. */
export function formatReport(r: SoakReport): string {
  const rows: Array<[string, string] | string> = [
    `memberops soak: ${r.ok ? 'PASS' : `FAIL (${r.failure})`}`,
    [
      'members / days / speed-up / seed',
      `${r.options.members} / ${r.options.days} / ${r.options.speedup}x / ${r.options.seed}`,
    ],
    ['month (real), one day', `${fmt(Math.round(r.durationsMs.month / 1000), ' s')}, ${fmt(r.options.dayMs, ' ms')}`],
    [
      'dunning (grace / reminders / cancel)',
      `${r.options.dunning.graceMs / 1000} s / ${r.options.dunning.remindersMs.map((x) => x / 1000).join(', ')} s / ${r.options.dunning.cancelAfterMs / 1000} s`,
    ],
    ['CRM (fake Intercom)', r.options.crm ? 'on' : 'off'],
    [
      'events (unique / handled / unhandled)',
      `${fmt(r.events.unique)} / ${fmt(r.events.handled)} / ${fmt(r.events.unhandled)}`,
    ],
    [
      'deliveries (duplicates / late, out of order)',
      `${fmt(r.events.deliveries)} (${fmt(r.events.duplicates)} / ${fmt(r.events.late)})`,
    ],
    ['faults injected', r.faults.length ? r.faults.map((f) => `${f.kind}@${f.atS}s`).join(', ') : 'none'],
    ...r.faults.map((f): [string, string] => [
      `  ${f.kind}`,
      `${f.detail}; caught up after ${fmt(f.caughtUpAfterMs, ' ms')}${f.error ? `; ERROR ${f.error}` : ''}`,
    ]),
    ['webhook attempts / 2xx', `${fmt(r.webhooks.attempts)} / ${fmt(r.webhooks.acked)}`],
    [
      '5xx answered / no answer / 4xx',
      `${fmt(r.webhooks.answered5xx)} / ${fmt(r.webhooks.noAnswer)} / ${fmt(r.webhooks.answered4xx)}`,
    ],
    ['retries / given up', `${fmt(r.webhooks.retries)} / ${fmt(r.webhooks.gaveUp)}`],
    ['ack latency', pct(r.latencyMs.ack)],
    ['generator send lag', pct(r.latencyMs.sendLag)],
    ['ack -> workflow transition', pct(r.latencyMs.workflow)],
    ['projection lag (ack -> row)', pct(r.latencyMs.projection)],
    ['CRM sync lag (ack -> tag)', pct(r.latencyMs.crmSync)],
    [
      'peak worker RSS',
      `${fmt(r.processes.worker.peakRssMb, ' MiB')} (${r.processes.worker.starts} start(s), ${r.processes.worker.unexpectedExits} unexpected exit(s))`,
    ],
    [
      'peak API RSS',
      `${fmt(r.processes.api.peakRssMb, ' MiB')} (${r.processes.api.starts} start(s), ${r.processes.api.unexpectedExits} unexpected exit(s))`,
    ],
    [
      'Temporal history events / member',
      `${pct(r.history.eventsPerMember, '')}; total ${fmt(r.history.totalEvents)}; continued-as-new ${fmt(r.history.continuedAsNew)}`,
    ],
    ['settle after last fault', fmt(r.settle.afterLastFaultMs, ' ms')],
    ['settle after last event/deadline', `${fmt(r.settle.afterLastActivityMs, ' ms')} (${r.settle.checks} check(s))`],
    [
      'final statuses (oracle)',
      Object.entries(r.finalStatuses)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ['lost events', fmt(r.check.lostEvents)],
    ['events with a wrong final status', fmt(r.check.wrongStatuses)],
    ['duplicated effects', fmt(r.check.duplicatedEffects)],
    ['disagreements', fmt(r.check.disagreements)],
    [
      'FINAL MISMATCHES (must be 0)',
      `${fmt(r.check.mismatches)}${Object.keys(r.check.byCategory).length ? ` ${JSON.stringify(r.check.byCategory)}` : ''}`,
    ],
    ['oracle clock disagreements', fmt(r.check.timingViolations)],
    ['clock-ambiguous members', fmt(r.check.clockAmbiguous.length)],
    ['redundant (idempotent) tag calls', fmt(r.check.redundantTagCalls)],
    ['total run time', fmt(Math.round(r.durationsMs.total / 1000), ' s')],
  ];
  const width = Math.max(...rows.map((x) => (typeof x === 'string' ? 0 : x[0].length)));
  const lines = rows.map((x) => (typeof x === 'string' ? x : `${x[0].padEnd(width)}  ${x[1]}`));
  for (const m of r.check.samples.slice(0, 10)) lines.push(`  mismatch ${m.customerId} [${m.category}]: ${m.detail}`);
  for (const t of r.check.timingSamples.slice(0, 3)) lines.push(`  clock disagreement ${t}`);
  for (const a of r.check.clockAmbiguous.slice(0, 3)) lines.push(`  clock-ambiguous ${a}`);
  return lines.join('\n');
}

export function writeReport(file: string, r: SoakReport): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}
