import { param, raw, sql, type Storage } from '@kpi/storage';
import { teamCondition, type TeamFilter } from '../engine/scopes.ts';
import { iso, type Row } from '../rows.ts';
import { guardrailRegressions, parseExperiment, primaryResult, srmOf } from './entity.ts';
import { experiments } from './rows.ts';

/** Experiments by latest readout, newest first, with primary lift, CI, SRM and guardrail regressions. */
export async function listExperiments(storage: Storage, options: { team: TeamFilter; limit: number }) {
  const rows = await storage.query<Row>(sql`
    SELECT * FROM (${experiments.rows()})
    WHERE ${teamCondition(options.team)}
    ORDER BY latest_readout_at DESC NULLS LAST, entity_id
    LIMIT ${param(options.limit, 'UInt32')}`);
  return rows.map((row) => {
    const experiment = parseExperiment(row);
    const result = primaryResult(experiment);
    const srm = srmOf(experiment);
    return {
      experiment_id: experiment.entity_id,
      team: experiment.team,
      model_id: experiment.model_id,
      primary_metric: experiment.primary?.metric ?? null,
      first_readout_at: iso(row.first_readout_at),
      latest_readout_at: iso(row.latest_readout_at),
      decided_at: iso(row.decided_at),
      decision: experiment.decision ?? null,
      actionable: experiment.actionable ?? null,
      lift: result?.lift.lift ?? null,
      ci_low: result?.lift.ciLow ?? null,
      ci_high: result?.lift.ciHigh ?? null,
      p_value: result?.lift.pValue ?? null,
      improvement: result?.improvement ?? null,
      significance: result?.significance ?? null,
      srm: srm ? { p_value: srm.pValue, failed: srm.failed } : null,
      guardrail_regressions: guardrailRegressions(experiment),
    };
  });
}
