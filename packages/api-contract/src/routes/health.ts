import { z } from 'zod';
import { defineRoute } from '../route.ts';

const readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ kafka: z.boolean(), clickhouse: z.boolean(), redis: z.boolean() }),
  failing: z.array(z.string()).optional(),
  message: z.string().optional(),
});

export const healthRoutes = {
  getHealth: defineRoute({
    method: 'GET',
    path: '/healthz',
    access: 'public',
    teamScope: 'none',
    tags: ['health'],
    summary: 'Liveness: 200 while the process runs',
    selfContained: true,
    responses: { 200: z.object({ status: z.literal('ok') }) },
  }),
  getReadiness: defineRoute({
    method: 'GET',
    path: '/readyz',
    access: 'public',
    teamScope: 'none',
    tags: ['health'],
    summary: 'Readiness: 200 when Kafka, ClickHouse and Redis answer, else 503 naming which',
    responses: { 200: readiness, 503: readiness },
  }),
  getMetrics: defineRoute({
    method: 'GET',
    path: '/metrics',
    access: 'public',
    teamScope: 'none',
    tags: ['health'],
    summary: 'Prometheus metrics of this process (text exposition format)',
    selfContained: true,
    responses: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } } },
  }),
};
