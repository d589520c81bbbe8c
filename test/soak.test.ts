/**
 * The short soak of `npm test`: a month of a 100-member community played in about 70 seconds against a memberops of
 * its own (Temporal dev server with a file-backed history, a fresh database, worker and API as child processes, fake
 * Intercom and Stripe API), with Stripe's duplicates and late deliveries, one SIGKILL of the worker and one restart of
 * Temporal. The long run (1,000 members) is `npm run soak`; see the README.
 */
import { formatReport, runSoak } from '../scripts/soak/run';

jest.setTimeout(5 * 60_000);

it('replays a month of 100 members through a worker kill and a Temporal restart with nothing lost, duplicated or disagreeing', async () => {
  const lines: string[] = [];
  const report = await runSoak({
    members: 100,
    days: 30,
    // A 30-day month in 72 s; dunning days stay 8 s (grace 24 s, cancel 72 s) so every cycle ends within the run.
    speedup: 36_000,
    seed: 42,
    faults: ['worker-kill', 'temporal-restart'],
    crm: true,
    maxMinutes: 4.5,
    pgAdminUrl: process.env['MEMBEROPS_TEST_PG_ADMIN_URL'],
    temporalCliPath: process.env['MEMBEROPS_TEST_TEMPORAL_CLI'],
    log: (line) => lines.push(line),
  });
  if (!report.ok || process.env['SOAK_REPORT'])
    process.stderr.write(`${lines.join('\n')}\n\n${formatReport(report)}\n`);

  expect(report.failure).toBeNull();
  expect(report.faults.map((f) => [f.kind, f.caughtUpAfterMs !== null])).toEqual([
    ['worker-kill', true],
    ['temporal-restart', true],
  ]);
  expect(report.webhooks.gaveUp).toBe(0);
  expect(report.check).toMatchObject({ mismatches: 0, lostEvents: 0, duplicatedEffects: 0, disagreements: 0 });
  // Every event of the plan went out and was acknowledged (duplicates included).
  expect(report.webhooks.acked).toBe(report.events.deliveries);
});
