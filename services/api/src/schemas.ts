import { z } from 'zod';

/** Every 4xx/5xx body: a machine-readable code and a message naming the problem. */
export const errorResponse = z.object({ error: z.string(), message: z.string() });
