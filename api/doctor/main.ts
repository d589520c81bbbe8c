/** `npm run doctor` (in the image: node dist/api/doctor/main.js): prints the launch-readiness checklist; exit 1 on any failure. */
import { loadDotEnv } from '../../lib/env-file';
import { doctor } from './run';

async function main(): Promise<void> {
  loadDotEnv();
  const { exitCode, output } = await doctor(process.env);
  process.stdout.write(output);
  process.exitCode = exitCode;
}

main().catch((err: unknown) => {
  process.stderr.write(`doctor failed to run: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
