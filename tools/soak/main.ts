/**
 * `npm run soak -- --members 1000 --days 30 --speedup 3600 --faults worker-kill,temporal-restart,...`: a month of a
 * community replayed against a real memberops (its own Temporal dev server, database, worker and API processes) with
 * Stripe's duplicates, late deliveries and the chosen faults; prints the report and writes it to .data/soak-last.json.
 * Exits 1 when anything was lost, duplicated or disagrees with the oracle.
 */
import path from 'node:path';
import { parseCli } from './options';
import { formatReport, runSoak } from './run';

async function main(): Promise<void> {
  let overrides;
  try {
    overrides = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const reportFile = overrides.reportFile ?? path.resolve(__dirname, '..', '..', '.data', 'soak-last.json');
  // Ctrl-C (or a CI timeout's SIGTERM) stops the run cleanly: children stopped, database dropped. A second one exits.
  const interrupt = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(`[soak] ${sig}: stopping (again to exit at once)\n`);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const report = await runSoak({ ...overrides, reportFile, signal: interrupt.signal });
  if (interrupt.signal.aborted) {
    process.stdout.write(`\n${report.failure ?? 'interrupted'}; ${reportFile} left as it was\n`);
    process.exit(130);
  }
  process.stdout.write(`\n${formatReport(report)}\n\nreport written to ${reportFile}\n`);
  process.exit(report.ok ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
