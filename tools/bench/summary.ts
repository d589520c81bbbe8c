/** Turns the bench's measurements into the printed report (table, CPU per phase, breakdown) and .data/bench-last.json. */
import type { BreakdownRow } from './breakdown';
import type { BenchOptions } from './phases';
import type { LoadResult, Percentiles } from './load';
import { cpuLine, fmt, met, table, writeJson, type MachineInfo, type Row } from './report';
import { cpuMsPer, type CpuUsage } from './stack';
import type { HistoryPerEvent } from './history';

type Measured = { result: LoadResult; cpu: CpuUsage | undefined };
/** Polled through the API: `timeouts` were not seen within 10 s (and count as 10 s). */
type PolledLag = Percentiles & { timeouts: number };
/** From commits: `superseded` statuses were never committed (a newer state replaced them while queued). */
type CommitLag = Percentiles & { superseded: number };

export interface PhaseResults {
  options: BenchOptions;
  events: { open: number; closed: number; warmUp: number };
  accessRows: number;
  /** pipelineCpu: from memberops' first send until its projection settled. */
  open: { baseline: Measured; memberops: Measured; backlogS: number; pipelineCpu: CpuUsage | undefined };
  lagUnderLoad: CommitLag;
  lagAtRest: PolledLag & { failed: number };
  lagAtRestCommit: CommitLag;
  closed: {
    baseline: Measured;
    memberops: Measured;
    backlogS: number;
    pipelineCpu: CpuUsage | undefined;
    history: HistoryPerEvent;
  };
  access: { baseline: Measured; memberops: Measured };
  accessFixed: { baseline: Measured; memberops: Measured };
  breakdown: BreakdownRow[];
  handoffCeiling: LoadResult;
}

export const TARGETS = { ackP99Ms: 50, accessP99Ms: 5, lagP99Ms: 1000, historyPerEvent: 6.01 };

const failures = (r: LoadResult): number => Object.values(r.errors).reduce((a, b) => a + b, 0) + r.skipped;

/** The processes that do memberops' work, and the baseline's (postgres counts every PostgreSQL process). */
export const MEMBEROPS_ROLES = ['api', 'worker', 'temporal', 'postgres'];
export const BASELINE_ROLES = ['baseline', 'postgres'];

/** Events per second from the first send to the last projection write: what the whole pipeline sustains. */
const processed = (events: number, r: LoadResult, backlogS: number): number => events / (r.elapsedMs / 1000 + backlogS);

/** The open loop only counts as "at the rate" if every event was delivered and the achieved rate is within 5 %. */
function sustained(r: LoadResult, rate: number): { ok: boolean; why: string } {
  if (failures(r) > 0) return { ok: false, why: `${failures(r)} failed or unsent` };
  if (r.throughput < rate * 0.95) return { ok: false, why: `only ${Math.round(r.throughput)}/s achieved` };
  return { ok: true, why: '' };
}

export function buildRows(r: PhaseResults): Row[] {
  const o = r.options;
  const ob = r.open.baseline.result;
  const om = r.open.memberops.result;
  const cb = r.closed.baseline.result;
  const cm = r.closed.memberops.result;
  const ab = r.access.baseline.result;
  const am = r.access.memberops.result;
  const fb = r.accessFixed.baseline.result;
  const fm = r.accessFixed.memberops.result;
  const atRate = sustained(om, o.rate);
  const noFailures = (x: LoadResult) => ({ ok: failures(x) === 0, why: `${failures(x)} failed` });
  return [
    {
      metric: `webhook events/s, open loop (offered ${o.rate}/s)`,
      memberops: om.throughput,
      baseline: ob.throughput,
      unit: 'ev/s',
    },
    { metric: 'webhook ack p50, open loop', memberops: om.latency.p50, baseline: ob.latency.p50, unit: 'ms' },
    {
      metric: 'webhook ack p99, open loop',
      memberops: om.latency.p99,
      baseline: ob.latency.p99,
      unit: 'ms',
      target: { op: 'lt', value: TARGETS.ackP99Ms, also: atRate },
    },
    { metric: 'webhook failed or unsent, open loop', memberops: failures(om), baseline: failures(ob), unit: 'count' },
    {
      metric: 'events processed/s to the projection, open loop',
      memberops: processed(r.events.open, om, r.open.backlogS),
      unit: 'ev/s',
    },
    {
      metric: 'CPU per webhook event, whole stack, open loop',
      memberops: cpuMsPer(r.open.pipelineCpu, MEMBEROPS_ROLES, r.events.open),
      baseline: cpuMsPer(r.open.baseline.cpu, BASELINE_ROLES, r.events.open),
      unit: 'ms',
    },
    {
      metric: `webhook events/s, closed loop (${o.closedConcurrency} senders)`,
      memberops: cm.throughput,
      baseline: cb.throughput,
      unit: 'ev/s',
    },
    { metric: 'webhook ack p50, closed loop', memberops: cm.latency.p50, baseline: cb.latency.p50, unit: 'ms' },
    { metric: 'webhook ack p99, closed loop', memberops: cm.latency.p99, baseline: cb.latency.p99, unit: 'ms' },
    {
      metric: 'events processed/s to the projection, closed loop',
      memberops: processed(r.events.closed, cm, r.closed.backlogS),
      unit: 'ev/s',
    },
    {
      metric: 'CPU per webhook event, whole stack, closed loop',
      memberops: cpuMsPer(r.closed.pipelineCpu, MEMBEROPS_ROLES, r.events.closed),
      baseline: cpuMsPer(r.closed.baseline.cpu, BASELINE_ROLES, r.events.closed),
      unit: 'ms',
    },
    ...MEMBEROPS_ROLES.map((role) => ({
      metric: `  of which ${role}, closed loop`,
      memberops: cpuMsPer(r.closed.pipelineCpu, [role], r.events.closed),
      unit: 'ms' as const,
    })),
    {
      metric: 'Temporal history events per webhook event',
      memberops: r.closed.history.perEvent,
      unit: 'per event',
      target: { op: 'lt', value: TARGETS.historyPerEvent },
    },
    {
      metric: 'visibility writes per webhook event',
      memberops: r.closed.history.visibilityPerEvent,
      unit: 'per event',
    },
    {
      metric: `access req/s, closed loop (concurrency ${o.accessConcurrency})`,
      memberops: am.throughput,
      baseline: ab.throughput,
      unit: 'req/s',
    },
    { metric: 'access p50, closed loop', memberops: am.latency.p50, baseline: ab.latency.p50, unit: 'ms' },
    {
      metric: 'access p99, closed loop',
      memberops: am.latency.p99,
      baseline: ab.latency.p99,
      unit: 'ms',
      target: { op: 'lt', value: TARGETS.accessP99Ms, also: noFailures(am) },
    },
    {
      metric: `access p50, open loop at ${o.accessRate} req/s`,
      memberops: fm.latency.p50,
      baseline: fb.latency.p50,
      unit: 'ms',
    },
    {
      metric: `access p99, open loop at ${o.accessRate} req/s`,
      memberops: fm.latency.p99,
      baseline: fb.latency.p99,
      unit: 'ms',
      target: { op: 'lt', value: TARGETS.accessP99Ms, also: noFailures(fm) },
    },
    { metric: `ack→projection lag p50, under load (${o.rate}/s)`, memberops: r.lagUnderLoad.p50, unit: 'ms' },
    {
      metric: 'ack→projection lag p99, under load',
      memberops: r.lagUnderLoad.p99,
      unit: 'ms',
      target: { op: 'lt', value: TARGETS.lagP99Ms },
    },
    { metric: 'ack→access shows it, p50, at rest (20/s)', memberops: r.lagAtRest.p50, unit: 'ms' },
    {
      metric: 'ack→access shows it, p99, at rest',
      memberops: r.lagAtRest.p99,
      unit: 'ms',
      target: {
        op: 'lt',
        value: TARGETS.lagP99Ms,
        also: {
          ok: r.lagAtRest.timeouts === 0 && r.lagAtRest.failed === 0,
          why: `${r.lagAtRest.timeouts} not seen in 10 s`,
        },
      },
    },
  ];
}

function perRole(usage: CpuUsage | undefined, events: number): string {
  return MEMBEROPS_ROLES.map((role) => `${role} ${(cpuMsPer(usage, [role], events) ?? NaN).toFixed(2)}`).join(' · ');
}

function bursts(r: LoadResult): string {
  return `${r.slowBursts.requests} requests in ${r.slowBursts.bursts} burst${r.slowBursts.bursts === 1 ? '' : 's'}`;
}

function errorsLine(r: LoadResult): string {
  const e = Object.entries(r.errors).map(([k, v]) => `${v}× ${k}`);
  if (r.skipped) e.push(`${r.skipped} unsent (deadline)`);
  return e.length ? e.join(', ') : 'none';
}

const p = (x: Percentiles, unit = 'ms'): string =>
  `p50 ${x.p50.toFixed(unit === 'µs' ? 0 : 2)} · p99 ${x.p99.toFixed(unit === 'µs' ? 0 : 2)} · max ${x.max.toFixed(unit === 'µs' ? 0 : 2)} ${unit} (n=${x.n})`;

/** Cores other processes took from the bench per measured phase, when above a noise floor (0.15 of a core). */
export const CONTENTION_CORES = 0.15;
function contention(r: PhaseResults): string[] {
  const phases: Array<[string, Measured]> = [
    ['open loop baseline', r.open.baseline],
    ['open loop memberops', r.open.memberops],
    ['closed loop baseline', r.closed.baseline],
    ['closed loop memberops', r.closed.memberops],
    ['access baseline', r.access.baseline],
    ['access memberops', r.access.memberops],
    ['access fixed baseline', r.accessFixed.baseline],
    ['access fixed memberops', r.accessFixed.memberops],
  ];
  return phases
    .filter(([, x]) => (x.cpu?.cores['other'] ?? 0) > CONTENTION_CORES)
    .map(([name, x]) => `${name} ${(x.cpu?.cores['other'] ?? 0).toFixed(2)} cores`);
}

export function composeReport(
  r: PhaseResults,
  meta: {
    command: string;
    machine: MachineInfo;
    startedAt: Date;
    finishedAt: Date;
    resultFile: string;
    versions: { temporalCli?: string; temporalServer?: string; postgres?: string };
  },
): { text: string; rows: Row[] } {
  const rows = buildRows(r);
  const o = r.options;
  const m = meta.machine;
  const durationS = (meta.finishedAt.getTime() - meta.startedAt.getTime()) / 1000;
  const om = r.open.memberops.result;
  const disturbed = contention(r);
  const lines = [
    '',
    `memberops bench, ${meta.startedAt.toISOString()}`,
    `command: ${meta.command}`,
    `machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, node ${m.node}, ${m.platform}; load average at start ${m.loadAverage.join(' ')}`,
    ...(disturbed.length
      ? [
          `WARNING: processes outside the bench used CPU during measured phases (${disturbed.join(', ')}):` +
            ' these figures are not representative of this machine; rerun when it is quiet (see "CPU" below).',
        ]
      : []),
    `stack: ${m.temporalServer ?? 'Temporal dev server in memory'} (${m.temporalCli ?? 'temporal-server'}), PostgreSQL ${m.postgres ?? '?'} (fresh database);` +
      ' worker and API as child processes (node --import tsx worker/main.ts, api/main.ts; NODE_ENV=production, LOG_LEVEL=error' +
      `${o.nodeFlags.length ? `; node ${o.nodeFlags.join(' ')}` : ''});` +
      ' baseline as a child process (tools/bench/baseline-server.ts); load from the bench process, keep-alive HTTP on 127.0.0.1',
    `load: ${o.members} members → ${r.events.open} events (checkout.session.completed, customer.subscription.created, invoice.paid;` +
      ` 1 member in ${o.dunningEvery} also invoice.payment_failed + invoice.paid), each member's events in order, spread over the run;` +
      ` open loop at ${o.rate}/s with at most ${o.maxInFlight} in flight (latency from the scheduled send);` +
      ` closed loop over ${r.events.closed} events of ${o.members} fresh members;` +
      ` access over ${r.accessRows} members: ${o.accessRequests} GETs at concurrency ${o.accessConcurrency}, then ${Math.min(o.accessRequests, o.accessRate * 10)} at ${o.accessRate}/s`,
    '',
    table(rows),
    '',
    `targets: ${rows
      .filter((x) => x.target)
      .map((x) => `${x.metric}: ${met(x) ? 'met' : 'MISSED'}`)
      .join('; ')}`,
    '',
    'details',
    `  open loop, memberops: errors ${errorsLine(om)}; ${om.lateStarts} sent late (cap or client behind); service time ${p(om.service)}`,
    `  open loop, baseline: errors ${errorsLine(r.open.baseline.result)}; ${r.open.baseline.result.lateStarts} sent late; service time ${p(r.open.baseline.result.service)}`,
    `  open loop: the last projection was written ${r.open.backlogS.toFixed(1)} s after the last ack; closed loop: ${r.closed.backlogS.toFixed(1)} s`,
    `  CPU per webhook event, open loop, memberops by process (ms): ${perRole(r.open.pipelineCpu, r.events.open)}`,
    `  CPU per webhook event, closed loop, memberops by process (ms): ${perRole(r.closed.pipelineCpu, r.events.closed)}`,
    `  access at ${o.accessRate}/s: the slowest 1 % came in bursts (sent < 50 ms apart): memberops ${bursts(r.accessFixed.memberops.result)}, baseline ${bursts(r.accessFixed.baseline.result)}`,
    `  access closed loop: memberops ${bursts(r.access.memberops.result)}, baseline ${bursts(r.access.baseline.result)}`,
    `  closed loop errors: memberops ${errorsLine(r.closed.memberops.result)}; baseline ${errorsLine(r.closed.baseline.result)}`,
    `  lag under load (ack → commit of the projection row, LISTEN/NOTIFY; every status-changing event): ${p(r.lagUnderLoad)};` +
      ` ${r.lagUnderLoad.superseded} superseded before they were projected`,
    `  lag at rest, polled (ack → GET /members/:id/access shows it, every 5 ms): ${p(r.lagAtRest)}; ${r.lagAtRest.timeouts} not seen within 10 s`,
    `  lag at rest, same events from commits: ${p(r.lagAtRestCommit)}`,
    `  Temporal history events per webhook event (20 workflows of the closed loop): ${r.closed.history.perEvent.toFixed(1)}: ` +
      Object.entries(r.closed.history.types)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    `  visibility writes per webhook event (workflow starts, search attribute and memo upserts, closes): ${r.closed.history.visibilityPerEvent.toFixed(2)}`,
    `  handoff ceiling (signalWithStart alone, ${r.options.closedConcurrency} callers, task queue without a worker): ` +
      `${Math.round(r.handoffCeiling.throughput)}/s, ${p(r.handoffCeiling.latency)}, errors ${errorsLine(r.handoffCeiling)}`,
    '',
    'CPU, in cores, per phase (/proc; postgres = every postgres process on the machine, other = everything else)',
    `  open loop, baseline:    ${cpuLine(r.open.baseline.cpu)}`,
    `  open loop, memberops:   ${cpuLine(r.open.memberops.cpu)}`,
    `  closed loop, baseline:  ${cpuLine(r.closed.baseline.cpu)}`,
    `  closed loop, memberops: ${cpuLine(r.closed.memberops.cpu)}`,
    `  access, baseline:       ${cpuLine(r.access.baseline.cpu)}`,
    `  access, memberops:      ${cpuLine(r.access.memberops.cpu)}`,
    `  access fixed, baseline: ${cpuLine(r.accessFixed.baseline.cpu)}`,
    `  access fixed, memberops:${cpuLine(r.accessFixed.memberops.cpu)}`,
    '',
    'breakdown, one request at a time on an idle stack',
    ...r.breakdown.map((b) => `  ${b.step.padEnd(58)} ${p(b.result, b.unit)}`),
    '',
    `finished in ${durationS.toFixed(0)} s; figures in ${meta.resultFile}`,
  ];
  writeJson(meta.resultFile, {
    command: meta.command,
    startedAt: meta.startedAt.toISOString(),
    durationS,
    machine: meta.machine,
    options: o,
    contention: disturbed,
    table: rows.map((x) => ({
      ...x,
      met: met(x),
      display: { memberops: fmt(x.memberops, x.unit), baseline: fmt(x.baseline, x.unit) },
    })),
    results: r,
  });
  return { text: lines.join('\n'), rows };
}
