import { z } from 'zod';
import type { DirtyDay } from '@kpi/kpi';

/**
 * Every queue of the pipeline with the payload its jobs carry: producers and processors
 * share these names and schemas, and a payload is parsed before a processor sees it.
 */
export const queueCatalog = {
  /**
   * Recompute what the changed (team, day) pairs of one source of KPI rows make stale: their day
   * states, then every KPI of the source for the periods containing them, every tier. The pairs
   * wait in a Redis set per source (see DirtySet): repeats collapse there, and one job drains them all.
   */
  kpiRecompute: {
    name: 'kpi-recompute',
    payload: z.object({ source: z.string() }),
  },
  /**
   * Recompute the whole history of one KPI whose definition changed (a custom KPI defined, changed
   * or deleted), then drop the values computed under the old definition.
   */
  kpiHistory: {
    name: 'kpi-history',
    payload: z.object({ kpi: z.string() }),
  },
  /** Periodic: recompute the open periods and the period-end KPIs (drift coverage). */
  kpiRefresh: {
    name: 'kpi-refresh',
    payload: z.object({}),
  },
  /** Generate (or regenerate) the review of a quarter (2026-Q3) or a year (2026) and scope (`all` = the organisation). */
  reportGenerate: {
    name: 'report-generate',
    payload: z.object({ quarter: z.string().regex(/^\d{4}(-Q[1-4])?$/), team: z.string().min(1), trigger: z.enum(['schedule', 'request']) }),
  },
  /** Periodic: request the reports of the last closed quarter and year once REPORT_DELAY_HOURS have passed since they closed. */
  reportSchedule: {
    name: 'report-schedule',
    payload: z.object({}),
  },
  /** Evaluate every alert rule (periodic, after each KPI recompute, after rule or silence changes). */
  alertEvaluate: {
    name: 'alert-evaluate',
    payload: z.object({ reason: z.string().default('schedule') }),
  },
  /** Deliver one alert notification; `id` is its key in the outbox and its idempotency key. */
  alertNotify: {
    name: 'alert-notify',
    payload: z.object({ id: z.string().min(1) }),
  },
  /** Pull one GrowthBook experiment's results into an experiment.readout (while it runs, and once when it stops). */
  growthbookResults: {
    name: 'growthbook-results',
    payload: z.object({ experiment: z.string().min(1), final: z.boolean() }),
  },
  /** Periodic: pull the results of every GrowthBook experiment that is running. */
  growthbookPoll: {
    name: 'growthbook-poll',
    payload: z.object({}),
  },
  /** Periodic (every servicenow.poll_interval): read the incidents updated since the cursor from ServiceNow's Table API. */
  servicenowPoll: {
    name: 'servicenow-poll',
    payload: z.object({}),
  },
} as const;

export type QueueKey = keyof typeof queueCatalog;
export type Payload<K extends QueueKey> = z.infer<(typeof queueCatalog)[K]['payload']>;

/** A day of a team whose rows of a source changed (planned by @kpi/kpi). */
export type Recompute = DirtyDay;
