/**
 * `npm run -s admin:hash` (or `node dist/api/admin-hash.js` in the image): reads the founder's password from
 * standard input and prints its argon2id hash for ADMIN_PASSWORD_HASH. The password is never echoed or logged.
 */
import { hash } from '@node-rs/argon2';

const MIN_PASSWORD_CHARS = 12;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (input hidden is not supported; pipe it in): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline belongs to the shell, not to the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const password = await readStdin();
  if (password.length < MIN_PASSWORD_CHARS) {
    process.stderr.write(`admin:hash: the password must be at least ${MIN_PASSWORD_CHARS} characters\n`);
    process.exit(1);
  }
  process.stdout.write(`${await hash(password)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`admin:hash failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
