import { kpiValues, type StoredKpiValue, type Storage } from '@kpi/storage';
import type { KpiDefinition } from './definition.ts';
import { emptyValue, type TierScope } from './engine/compute.ts';
import { forecastFor, type Forecast } from './forecast.ts';
import { previousPeriodStart, type Granularity, type Period } from './periods.ts';
import { applicableRule, judge, type Status, type TargetOverride } from './targets.ts';

export interface KpiValue {
  period_start: string;
  period_end: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  sample_size: number;
  target: number | null;
  status: Status;
  previous_value: number | null;
  details: Record<string, unknown>;
  /** Where the period under way at the time of reading will end (SPEC §5c); null for the others and where none applies. */
  forecast: Forecast | null;
}

const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

/** The stored values of some KPIs, one granularity and tier, some teams, for periods starting in [from, to]. */
export interface ValueReader {
  read(scope: { kpis: readonly string[]; granularity: Granularity; tier: TierScope; teams: readonly string[]; from: Date; to: Date }): Promise<StoredKpiValue[]> | StoredKpiValue[];
}

/** Values as ClickHouse stores them (`kpi_values`): for reports and tools; the API and alerts read the served copy. */
export const storedValuesIn = (storage: Storage): ValueReader => ({ read: (scope) => kpiValues.read(storage, scope) });

/**
 * Reads stored values of several KPIs for consecutive periods of one scope with one query, and
 * judges them against their targets. A period with no stored value is a period with nothing in
 * it: the KPI evaluated over no entities (0 for counts and sums, null for ratios, means,
 * medians, correlations). The period that contains `now` gets its forecast, computed here from
 * the stored counts and the clock, so it moves as the period elapses.
 */
export async function readValuesOf(
  values: ValueReader,
  kpis: readonly KpiDefinition[],
  scope: { granularity: Granularity; team: string; tier: TierScope },
  periods: Period[],
  overrides: TargetOverride[] = [],
  now = new Date(),
): Promise<Map<string, KpiValue[]>> {
  const result = new Map<string, KpiValue[]>();
  if (periods.length === 0 || kpis.length === 0) return result;
  const previousStart = previousPeriodStart(scope.granularity, periods[0]!.start);
  const rows = await values.read({
    kpis: kpis.map((kpi) => kpi.id),
    granularity: scope.granularity,
    tier: scope.tier,
    teams: [scope.team],
    from: previousStart,
    to: periods.at(-1)!.start,
  });
  const stored = new Map(rows.map((row) => [`${row.kpi}|${row.start}`, row]));
  // What every KPI shares: each period's key and texts, formatted once (a scorecard reads 35 KPIs).
  const previousPeriod = { start: previousStart, end: periods[0]!.start };
  const previousKey = kpiValues.startKey(previousStart);
  const texts = periods.map((period) => ({ period, key: kpiValues.startKey(period.start), start: iso(period.start), end: iso(period.end) }));
  for (const kpi of kpis) {
    const valueAt = (period: Period, key: string) => {
      const row = stored.get(`${kpi.id}|${key}`);
      if (row) return { value: row.value, numerator: row.numerator, denominator: row.denominator, sample_size: row.sample_size, details: row.details };
      return emptyValue(kpi, { period, at: period.end });
    };
    const rule = applicableRule(kpi, scope, overrides);
    let previous = valueAt(previousPeriod, previousKey).value;
    result.set(
      kpi.id,
      texts.map(({ period, key, start, end }) => {
        const current = valueAt(period, key);
        const { target, status } = judge(rule, current.value, previous);
        const forecast = rule && target !== null ? forecastFor(kpi, current, period, { op: rule.op, value: target }, now) : null;
        const value: KpiValue = { period_start: start, period_end: end, ...current, target, status, previous_value: previous, forecast };
        previous = current.value;
        return value;
      }),
    );
  }
  return result;
}

export async function readValues(
  values: ValueReader,
  kpi: KpiDefinition,
  scope: { granularity: Granularity; team: string; tier: TierScope },
  periods: Period[],
  overrides: TargetOverride[] = [],
  now = new Date(),
): Promise<KpiValue[]> {
  return (await readValuesOf(values, [kpi], scope, periods, overrides, now)).get(kpi.id) ?? [];
}
