/**
 * The bench's baseline, run as its own process like the memberops API: the least any webhook receiver and any access
 * endpoint on express + PostgreSQL must do. `POST /webhooks/stripe` verifies the signature on the raw body and inserts
 * one row; `GET /members/:id/access` is one SELECT by primary key. Nothing else: no helmet, no zod, no Temporal.
 *
 * Started by tools/bench/main.ts with PORT, DATABASE_URL and STRIPE_WEBHOOK_SECRET; the tables are created by the bench.
 */
import express from 'express';
import type { Server } from 'node:http';
import { Pool } from 'pg';
import Stripe from 'stripe';
import { z } from 'zod';

const envSchema = z.object({
  /** Port on 127.0.0.1. */
  PORT: z.coerce.number().int().min(1).max(65535),
  /** The bench's scratch database. */
  DATABASE_URL: z.string().min(1),
  /** The same signing secret the memberops API gets. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1),
});

export const BASELINE_EVENTS_TABLE = 'bench_baseline_events';
export const BASELINE_ACCESS_TABLE = 'bench_baseline_access';

function main(): void {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    process.stderr.write(`bench baseline: invalid environment:\n${lines.join('\n')}\n`);
    process.exit(1);
  }
  const env = parsed.data;
  // A bare pg.Pool on purpose (not lib/db): this is the floor memberops is compared with. Same size as lib/db's pool.
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 10, connectionTimeoutMillis: 3000 });
  pool.on('error', () => undefined);

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post('/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(
        req.body as Buffer,
        req.header('stripe-signature') ?? '',
        env.STRIPE_WEBHOOK_SECRET,
      );
    } catch {
      res.status(400).json({ error: 'bad_signature' });
      return;
    }
    const obj = event.data.object as { customer?: unknown };
    try {
      await pool.query(
        `INSERT INTO ${BASELINE_EVENTS_TABLE} (id, type, created_at, customer_id) VALUES ($1, $2, to_timestamp($3), $4)`,
        [event.id, event.type, event.created, typeof obj.customer === 'string' ? obj.customer : null],
      );
    } catch {
      res.status(503).json({ error: 'postgres_unavailable' });
      return;
    }
    res.json({ received: true });
  });
  app.get('/members/:id/access', async (req, res) => {
    try {
      const { rows } = await pool.query<{ status: string; allowed: boolean; reason: string }>(
        `SELECT status, allowed, reason FROM ${BASELINE_ACCESS_TABLE} WHERE customer_id = $1`,
        [req.params.id],
      );
      const row = rows[0];
      if (!row) res.status(404).json({ memberId: req.params.id, status: 'none', allowed: false });
      else res.json({ memberId: req.params.id, status: row.status, allowed: row.allowed, reason: row.reason });
    } catch {
      res.status(503).json({ error: 'postgres_unavailable' });
    }
  });

  const server: Server = app.listen(env.PORT, '127.0.0.1');
  server.keepAliveTimeout = 65_000;
  server.once('error', (err) => {
    process.stderr.write(`bench baseline: ${err.message}\n`);
    process.exit(1);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    pool.end().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) main();
