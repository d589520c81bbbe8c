/**
 * `runSoak(options)`: starts its own memberops, plays a planned month at the speed-up over signed HTTP with Stripe's
 * delivery habits and the chosen faults, waits until every deadline has passed and the system has settled, then checks
 * every member against the oracle and reports.
 */
import { setMaxListeners } from 'node:events';
import { checkAll, projectionCaughtUp, type CheckResult } from './checker';
import { FaultInjector, scheduleFaults } from './faults';
import { planMonth, type Plan } from './generator';
import { historyStats, measureLags, ProjectionSampler, RssSampler } from './metrics';
import { memberHistories, type MemberHistory } from './history';
import { expectMember, type ExpectedMember } from './oracle';
import { readFact, type Fact } from './oracle-rules';
import { defaultOptions, dunningPolicy, type SoakOptions } from './options';
import { buildReport, formatReport, writeReport, type SoakReport } from './report';
import { noDeliveries, Sender } from './sender';
import { startStack, type Stack } from './stack';

export type { SoakOptions, SoakReport };
export { formatReport };

/** Time kept back at the end of `maxMinutes` for the final check and the report. */
const CHECK_RESERVE_MS = 60_000;
/** How long the system may take to settle after the last delivery or deadline before the check gives up. */
const SETTLE_LIMIT_MS = 120_000;

/** Waits `ms`, or less if `signal` aborts. */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

/** The oracle's reading of every handled event the generator sent, per member. */
function factsOf(plan: Plan): Map<string, Map<string, Fact>> {
  const out = new Map<string, Map<string, Fact>>();
  for (const d of plan.deliveries) {
    if (d.duplicate || !d.handled) continue;
    const m = out.get(d.customerId) ?? new Map<string, Fact>();
    m.set(d.eventId, readFact(d.body));
    out.set(d.customerId, m);
  }
  return out;
}

function expectAll(
  plan: Plan,
  facts: Map<string, Map<string, Fact>>,
  histories: Map<string, MemberHistory>,
  asOf: number,
): Map<string, ExpectedMember> {
  return new Map(
    plan.members.map((m) => [
      m.customerId,
      expectMember(
        m.customerId,
        histories.get(`member-${m.customerId}`)?.activations ?? [],
        facts.get(m.customerId) ?? new Map(),
        plan.policy,
        asOf,
      ),
    ]),
  );
}

export async function runSoak(input: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const o = defaultOptions(input);
  const log = o.log;
  const startedAt = Date.now();
  const hardDeadline = startedAt + o.maxMinutes * 60_000;
  const abort = new AbortController();
  // Every member's delivery lane waits on it.
  setMaxListeners(o.members + 50, abort.signal);
  const abortTimer = setTimeout(() => abort.abort(), Math.max(0, hardDeadline - CHECK_RESERVE_MS - Date.now()));
  const interrupted = (): void => abort.abort();
  o.signal?.addEventListener('abort', interrupted, { once: true });
  const stopIfInterrupted = (): void => {
    if (o.signal?.aborted) throw new Interrupted('interrupted: nothing was checked');
  };
  let stack: Stack | undefined;
  let failure: string | null = null;
  let report: SoakReport | undefined;
  try {
    const policy = dunningPolicy(o);
    log(
      `soak: ${o.members} members, ${o.days} days at ${o.speedup}x (a day is ${Math.round(86_400_000 / o.speedup)} ms), dunning grace ${policy.graceMs} ms / cancel ${policy.cancelAfterMs} ms, faults ${o.faults.join(',') || 'none'}, CRM ${o.crm ? 'on' : 'off'}, seed ${o.seed}`,
    );
    stack = await startStack(o);
    stopIfInterrupted();
    const s = stack;
    const setupMs = Date.now() - startedAt;
    const plan = planMonth(o, Date.now() + 2000);
    for (const m of plan.members)
      for (const c of m.charges) s.stripe.seedCharge({ id: c.id, customer: m.customerId, amount: c.amount });
    log(
      `plan: ${plan.counts.events} events, ${plan.counts.deliveries} deliveries (${plan.counts.duplicates} duplicates, ${plan.counts.late} late) over ${Math.round((plan.endMs - plan.t0) / 1000)} s`,
    );

    const sender = new Sender(
      plan,
      { url: s.apiUrl, secret: s.webhookSecret },
      { concurrency: o.concurrency, maxAttempts: o.maxDeliveryAttempts, log },
    );
    const injector = new FaultInjector(s, sender, o, (since) => projectionCaughtUp(s.apiUrl, sender.records, since));
    s.worker.onUnexpectedExit = (info) =>
      void injector.crashed('worker-crash', `worker exited unexpectedly (${info.signal ?? `code ${info.code}`})`);
    s.api.onUnexpectedExit = (info) =>
      void injector.crashed('api-crash', `API exited unexpectedly (${info.signal ?? `code ${info.code}`})`);
    const rss = new RssSampler([s.worker, s.api]);
    rss.start();
    const projections = new ProjectionSampler(s.db);
    projections.start();
    const progress = setInterval(() => {
      const st = sender.stats;
      log(
        `t+${Math.round((Date.now() - plan.t0) / 1000)}s: ${st.acked}/${plan.counts.deliveries} acknowledged, ${sender.pending} pending, ${st.answered5xx} 5xx, ${st.noAnswer} unanswered, ${st.retries} retries, worker ${Math.round((s.worker.sampleRss() ?? 0) / 1048576)} MiB`,
      );
    }, 15_000);

    const faultsDone = injector.run(scheduleFaults(o, plan.t0, plan.monthEndMs), abort.signal);
    await sender.run(abort.signal);
    const deliveriesDoneAt = Date.now();
    await faultsDone;
    clearInterval(progress);
    stopIfInterrupted();
    if (abort.signal.aborted) failure = `max-minutes (${o.maxMinutes}) reached before every delivery was made`;
    log(
      `deliveries done at t+${Math.round((deliveriesDoneAt - plan.t0) / 1000)}s: ${JSON.stringify(sender.stats.byError)}`,
    );

    // Every deadline the oracle expects must have passed before the final state is final (a reminder is not the end
    // of a dunning cycle: wait for the last deadline each member will ever reach).
    const facts = factsOf(plan);
    let histories = await memberHistories(s.client, s.taskQueue);
    let expected = expectAll(plan, facts, histories, Infinity);
    const lastDeadline = Math.max(0, ...[...expected.values()].map((e) => e.lastDeadlineAt));
    const lastActivityAt = Math.max(sender.lastAckAt, lastDeadline, deliveriesDoneAt);
    if (lastDeadline > Date.now())
      log(`waiting ${Math.round((lastDeadline - Date.now()) / 1000)} s for the last deadlines`);
    await sleep(Math.min(lastDeadline + 1000, hardDeadline - CHECK_RESERVE_MS) - Date.now(), o.signal);
    stopIfInterrupted();

    let check: CheckResult | undefined;
    let settledAt: number | undefined;
    let checks = 0;
    for (;;) {
      const asOf = Date.now() - 1000;
      histories = await memberHistories(s.client, s.taskQueue);
      expected = expectAll(plan, facts, histories, asOf);
      check = await checkAll(plan, expected, sender.records, { apiUrl: s.apiUrl, db: s.db, intercom: s.intercom });
      checks += 1;
      if (check.mismatches.length === 0) {
        settledAt = check.at;
        break;
      }
      log(`check ${checks}: ${check.mismatches.length} mismatch(es) ${JSON.stringify(check.byCategory)}`);
      for (const mm of check.mismatches.slice(0, 5)) log(`  ${mm.customerId} [${mm.category}] ${mm.detail}`);
      if (Date.now() + 5000 > hardDeadline - 15_000 || Date.now() - lastActivityAt > SETTLE_LIMIT_MS) break;
      await sleep(5000, o.signal);
      stopIfInterrupted();
    }
    rss.stop();
    await projections.stop();
    const lags = await measureLags(s.db, sender.records, check, projections);
    const history = historyStats(histories);
    const mb = (b: number): number => Math.round(b / 1048576);
    report = buildReport({
      o,
      plan,
      startedAt,
      setupMs,
      sender: sender.stats,
      outcomes: sender.outcomes(),
      faults: injector.records,
      expected,
      check,
      checks,
      settledAt,
      lastActivityAt,
      deliveriesDoneAt,
      lags,
      processes: {
        worker: {
          peakRssMb: mb(s.worker.peakRssBytes),
          starts: s.worker.starts,
          unexpectedExits: s.worker.unexpectedExits.length,
        },
        api: { peakRssMb: mb(s.api.peakRssBytes), starts: s.api.starts, unexpectedExits: s.api.unexpectedExits.length },
      },
      history,
      failure,
    });
  } catch (err) {
    if (err instanceof Interrupted) failure = err.message;
    else {
      failure = `soak harness failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      if (stack) log(`worker log tail:\n${stack.worker.tail()}\nAPI log tail:\n${stack.api.tail()}`);
    }
    log(failure);
  } finally {
    clearTimeout(abortTimer);
    o.signal?.removeEventListener('abort', interrupted);
    if (stack) {
      stack.worker.onUnexpectedExit = undefined;
      stack.api.onUnexpectedExit = undefined;
    }
    // A failed run keeps its directory (child logs, Temporal history) for a look; the database only on request.
    const keep = o.keepRunDir || (!report?.ok && !o.signal?.aborted);
    await stack
      ?.close({ keepRunDir: keep, keepDatabase: o.keepRunDir })
      .catch((err: unknown) => log(`stopping the stack: ${String(err)}`));
    if (stack && keep) log(`run directory kept: ${stack.runDir}`);
  }
  report ??= failedReport(o, startedAt, failure ?? 'unknown failure');
  // An interrupted run does not replace the last report.
  if (o.reportFile && !o.signal?.aborted) writeReport(o.reportFile, report);
  return report;
}

function failedReport(o: SoakOptions, startedAt: number, failure: string): SoakReport {
  const empty = { count: 0, p50: null, p99: null, max: null };
  return {
    ok: false,
    failure,
    startedAt: new Date(startedAt).toISOString(),
    options: {
      members: o.members,
      days: o.days,
      speedup: o.speedup,
      seed: o.seed,
      faults: o.faults,
      crm: o.crm,
      duplicateRate: o.duplicateRate,
      lateRate: o.lateRate,
      historyLimit: o.historyLimit,
      dunning: dunningPolicy(o),
      dayMs: Math.round(86_400_000 / o.speedup),
    },
    durationsMs: { setup: 0, month: 0, deliveries: 0, settle: 0, total: Date.now() - startedAt },
    events: { unique: 0, deliveries: 0, duplicates: 0, late: 0, handled: 0, unhandled: 0, byType: {} },
    webhooks: { ...noDeliveries(), outcomes: {} },
    latencyMs: { ack: empty, sendLag: empty, workflow: empty, projection: empty, crmSync: empty },
    faults: [],
    settle: { settled: false, afterLastFaultMs: null, afterLastActivityMs: null, checks: 0 },
    processes: {
      worker: { peakRssMb: 0, starts: 0, unexpectedExits: 0 },
      api: { peakRssMb: 0, starts: 0, unexpectedExits: 0 },
    },
    history: { workflows: 0, runs: 0, continuedAsNew: 0, eventsPerMember: empty, totalEvents: 0 },
    finalStatuses: {},
    stories: {},
    check: {
      mismatches: -1,
      byCategory: {},
      lostEvents: -1,
      wrongStatuses: -1,
      duplicatedEffects: -1,
      disagreements: -1,
      timingViolations: -1,
      timingSamples: [],
      clockAmbiguous: [],
      redundantTagCalls: -1,
      samples: [],
    },
  };
}
