import { z } from 'zod';

export const GRANULARITIES = ['week', 'month', 'quarter'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/**
 * Every queue of the pipeline with the payload its jobs carry: producers and processors
 * share these names and schemas, and a payload is parsed before a processor sees it.
 */
export const queueCatalog = {
  /**
   * Recompute the dirty (period, team scope) pairs of one KPI, every tier. The pairs wait in a
   * Redis set per KPI (see DirtySet): repeats collapse there, and one job drains them all.
   */
  kpiRecompute: {
    name: 'kpi-recompute',
    payload: z.object({ kpi: z.string() }),
  },
  /** Periodic: recompute the open periods and the period-end KPIs (drift coverage). */
  kpiRefresh: {
    name: 'kpi-refresh',
    payload: z.object({}),
  },
} as const;

export type QueueKey = keyof typeof queueCatalog;
export type Payload<K extends QueueKey> = z.infer<(typeof queueCatalog)[K]['payload']>;

/** One (KPI, granularity, period, team scope) that an event made stale; '*' is the whole organisation. */
export interface Recompute {
  kpi: string;
  granularity: Granularity;
  periodStart: string;
  team: string;
}
