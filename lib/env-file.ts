/** Loads `.env` into process.env if present (entry points only; variables already set win). */
import { existsSync } from 'node:fs';
import path from 'node:path';

export function loadDotEnv(file = path.resolve(process.cwd(), '.env')): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
