import { param, raw, sql, type Storage } from '@kpi/storage';
import type { Contribution, Evaluation, KpiDefinition } from '../definition.ts';
import type { Granularity, Period } from '../periods.ts';
import { iso, type Row } from '../rows.ts';
import { ALL_TEAMS, computeValues, judgedAt, rowsInPeriods, type TierScope } from './compute.ts';
import { isSqlKpi, rowColumns } from './measures.ts';

export interface Scope {
  granularity: Granularity;
  period: Period;
  team: string;
  tier: TierScope;
}

/** One value, computed like every stored one, for a scope. */
export async function computeScope(storage: Storage, kpi: KpiDefinition, scope: Scope, now: Date): Promise<Evaluation> {
  let evaluation: Evaluation | undefined;
  await computeValues(storage, { kpis: [kpi], windows: [{ granularity: scope.granularity, from: scope.period.start, to: scope.period.end }], teams: [scope.team], now }, async (values) => {
    evaluation = values.find((value) => value.tier === scope.tier)?.evaluation;
  });
  return evaluation!;
}

const BREAKDOWN_LIMIT = 10_000;

/**
 * A value with the rows behind it: for every entity or sample of the scope, whether it is in the
 * numerator and the denominator, its value in the aggregate, and why it was left out.
 */
export async function explainScope(storage: Storage, kpi: KpiDefinition, scope: Scope, now: Date): Promise<{ evaluation: Evaluation; contributions: Contribution[] }> {
  const evaluation = await computeScope(storage, kpi, scope, now);
  const source = kpi.source;
  const windows = [{ granularity: scope.granularity, from: scope.period.start, to: scope.period.end, periods: [scope.period] }];
  const teams = scope.team === ALL_TEAMS ? undefined : [scope.team];
  const tier = scope.tier === 'all' ? raw('1') : sql`tier = ${param(Number(scope.tier), 'UInt8')}`;
  const liveState = kpi.anchor === 'period_end';
  if (!isSqlKpi(kpi)) {
    const rows = await storage.query<Row>(sql`
      SELECT * FROM (${rowsInPeriods(source, kpi, windows, teams, now)}) WHERE ${tier}`);
    if (kpi.measure.kind !== 'entities') throw new Error(`${kpi.id}: no measure over entities`);
    const { contributions } = kpi.measure.evaluate(rows.map((row) => source.parse!(row)) as never[], { period: scope.period, at: judgedAt(scope.period, now), explain: true });
    return { evaluation, contributions };
  }
  const rows = await storage.query<Row>(sql`
    SELECT entity_id, team, tier, ${raw(liveState ? 'at' : kpi.anchor)} AS anchor, ${rowColumns(kpi)}
    FROM (${rowsInPeriods(source, kpi, windows, teams, now)})
    WHERE ${tier} AND listed
    ORDER BY anchor, entity_id
    LIMIT ${param(BREAKDOWN_LIMIT, 'UInt32')}`);
  return {
    evaluation,
    contributions: rows.map((row) => ({
      entity: String(row.entity_id),
      kind: source.entity,
      team: String(row.team),
      tier: Number(row.tier) === 0 ? null : Number(row.tier),
      anchor: iso(row.anchor)!,
      in_numerator: Boolean(row.in_numerator),
      in_denominator: Boolean(row.in_denominator),
      value: row.value === null ? null : Number(row.value),
      ...(row.note ? { note: String(row.note) } : {}),
    })),
  };
}
