/** The memberops client of this app: server side only (it holds the API key); `server-only` fails the build otherwise. */
import 'server-only';
import { createMemberopsClient } from '@memberops/client';
import { z } from 'zod';

const envSchema = z.object({
  MEMBEROPS_URL: z.url(),
  MEMBEROPS_API_KEY: z.string().min(1),
  MEMBEROPS_ACCESS_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
});

/** Read on first use, not at import: `next build` runs without the server's secrets. */
let client: ReturnType<typeof createMemberopsClient> | undefined;

export function memberops(): ReturnType<typeof createMemberopsClient> {
  if (!client) {
    const env = envSchema.parse(process.env);
    client = createMemberopsClient({
      baseUrl: env.MEMBEROPS_URL,
      apiKey: env.MEMBEROPS_API_KEY,
      accessCacheSeconds: env.MEMBEROPS_ACCESS_CACHE_SECONDS,
    });
  }
  return client;
}
