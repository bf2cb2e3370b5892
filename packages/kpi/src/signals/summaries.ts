import { param, raw, sql, type Storage } from '@kpi/storage';
import { ALL_TEAMS } from '../engine/compute.ts';
import { datasetArrivals, servingWindows } from './rows.ts';
import { ARRIVED_ON_TIME } from './kpis.ts';

type Scope = { team: string; from: Date; to: Date };
const teamFilter = (team: string) => (team === ALL_TEAMS ? raw('1') : sql`team = ${param(team, 'String')}`);

/** Serving per model in [from, to): requests, cost and request-weighted p95, aggregated where the windows are. */
export async function servingByModel(storage: Storage, scope: Scope) {
  const rows = await storage.query<{ model_id: string; tier: number; requests: number; cost_usd: number; latency_requests: number }>(sql`
    SELECT model_id, any(tier) AS tier, sum(requests) AS requests, sum(cost_usd) AS cost_usd, sum(latency_p95_ms * requests) AS latency_requests
    FROM (${servingWindows.rows(scope)})
    WHERE ${teamFilter(scope.team)}
    GROUP BY model_id
    ORDER BY cost_usd DESC, model_id`);
  return rows.map((row) => ({
    model_id: row.model_id,
    tier: Number(row.tier),
    requests: Number(row.requests),
    cost_usd: Number(row.cost_usd),
    cost_per_1k: Number(row.requests) === 0 ? null : (1000 * Number(row.cost_usd)) / Number(row.requests),
    latency_p95_ms: Number(row.requests) === 0 ? null : Number(row.latency_requests) / Number(row.requests),
  }));
}

/** Dataset arrivals in [from, to) per dataset: how many, how many late (data_freshness_sla's rule), the worst delay. */
export async function arrivalsByDataset(storage: Storage, scope: Scope) {
  const rows = await storage.query<{ dataset: string; arrivals: number; late: number; worst_delay_minutes: number }>(sql`
    SELECT dataset, count() AS arrivals, countIf(NOT (${ARRIVED_ON_TIME})) AS late,
      toInt64(floor(0.5 + maxIf((toUnixTimestamp64Milli(time) - toUnixTimestamp64Milli(expected_at)) / 60000, NOT (${ARRIVED_ON_TIME})))) AS worst_delay_minutes
    FROM (${datasetArrivals.rows(scope)})
    WHERE ${teamFilter(scope.team)}
    GROUP BY dataset
    ORDER BY late DESC, dataset`);
  return rows.map((row) => ({ dataset: row.dataset, arrivals: Number(row.arrivals), late: Number(row.late), worst_delay_minutes: Number(row.worst_delay_minutes) }));
}
