import { z } from 'zod';

/** Every 4xx/5xx body: a machine-readable code and a message naming the problem (a 503: the dependency too). */
export const errorResponse = z.object({ error: z.string(), message: z.string(), dependency: z.enum(['kafka', 'clickhouse', 'redis']).optional() });
