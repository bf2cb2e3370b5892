import { param, raw, sql, type Storage } from '@kpi/storage';
import { ALL_TEAMS } from '../engine/compute.ts';
import { dataValidations, datasetArrivals, servingWindows } from './rows.ts';
import { ARRIVED_ON_TIME } from './kpis.ts';

type Scope = { team: string; from: Date; to: Date };
const teamFilter = (team: string) => (team === ALL_TEAMS ? raw('1') : sql`team = ${param(team, 'String')}`);

/** Serving per model in [from, to): requests, cost and request-weighted p95, aggregated where the windows are. */
export async function servingByModel(storage: Storage, scope: Scope) {
  // Aliases differ from the columns they sum: ClickHouse would resolve a column to its alias.
  const rows = await storage.query<{ model_id: string; model_tier: number; total_requests: number; total_cost: number; latency_requests: number }>(sql`
    SELECT model_id, any(tier) AS model_tier, sum(requests) AS total_requests, sum(cost_usd) AS total_cost, sum(latency_p95_ms * requests) AS latency_requests
    FROM (${servingWindows.rows([scope])})
    WHERE ${teamFilter(scope.team)}
    GROUP BY model_id
    ORDER BY total_cost DESC, model_id`);
  return rows.map((row) => {
    const requests = Number(row.total_requests);
    return {
      model_id: row.model_id,
      tier: Number(row.model_tier),
      requests,
      cost_usd: Number(row.total_cost),
      cost_per_1k: requests === 0 ? null : (1000 * Number(row.total_cost)) / requests,
      latency_p95_ms: requests === 0 ? null : Number(row.latency_requests) / requests,
    };
  });
}

/** Dataset arrivals in [from, to) per dataset: how many, how many late (data_freshness_sla's rule), the worst delay. */
export async function arrivalsByDataset(storage: Storage, scope: Scope) {
  const rows = await storage.query<{ dataset: string; arrivals: number; late: number; worst_delay_minutes: number }>(sql`
    SELECT dataset AS dataset, count() AS arrivals, countIf(NOT (${ARRIVED_ON_TIME})) AS late,
      toInt64(floor(0.5 + maxIf((toUnixTimestamp64Milli(time) - toUnixTimestamp64Milli(expected_at)) / 60000, NOT (${ARRIVED_ON_TIME})))) AS worst_delay_minutes
    FROM (${datasetArrivals.rows([scope])})
    WHERE ${teamFilter(scope.team)}
    GROUP BY dataset
    ORDER BY late DESC, dataset`);
  return rows.map((row) => ({ dataset: row.dataset, arrivals: Number(row.arrivals), late: Number(row.late), worst_delay_minutes: Number(row.worst_delay_minutes) }));
}

/** Data validations in [from, to) per dataset: how many runs, how many failed (data_validation_pass_rate's rule), the suites that failed. */
export async function validationsByDataset(storage: Storage, scope: Scope) {
  const rows = await storage.query<{ dataset: string; validations: number; failed: number; failed_suites: string[] }>(sql`
    SELECT dataset AS dataset, count() AS validations, countIf(NOT success) AS failed, arraySort(groupUniqArrayIf(suite, NOT success)) AS failed_suites
    FROM (${dataValidations.rows([scope])})
    WHERE ${teamFilter(scope.team)}
    GROUP BY dataset
    ORDER BY failed DESC, dataset`);
  return rows.map((row) => ({ dataset: row.dataset, validations: Number(row.validations), failed: Number(row.failed), failed_suites: row.failed_suites }));
}
