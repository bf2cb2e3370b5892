import { z } from 'zod';

export const GRANULARITIES = ['week', 'month', 'quarter'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/**
 * Every queue of the pipeline with the payload its jobs carry: producers and processors
 * share these names and schemas, and a payload is parsed before a processor sees it.
 */
export const queueCatalog = {
  /** Recompute one KPI for one period and one team scope ('*' = all teams), every tier. */
  kpiRecompute: {
    name: 'kpi-recompute',
    payload: z.object({
      kpi: z.string(),
      granularity: z.enum(GRANULARITIES),
      periodStart: z.iso.datetime(),
      team: z.string(),
    }),
  },
  /** Periodic: recompute the open periods and the period-end KPIs (drift coverage). */
  kpiRefresh: {
    name: 'kpi-refresh',
    payload: z.object({}),
  },
} as const;

export type QueueKey = keyof typeof queueCatalog;
export type Payload<K extends QueueKey> = z.infer<(typeof queueCatalog)[K]['payload']>;

/** Collapses repeats: at most one waiting and one running recompute per (KPI, period, scope). */
export function recomputeDedupId(payload: Payload<'kpiRecompute'>): string {
  return `kpi|${payload.kpi}|${payload.granularity}|${payload.periodStart}|${payload.team}`;
}
