import { applicableRule, emptyEvaluation, judge, periodOf, previousPeriodStart, type Granularity, type KpiDefinition, type Period, type Status, type TargetOverride, type TierScope } from '@kpi/kpi';
import { kpiValues, type Storage } from '@kpi/storage';
import type { AlertRule } from './rule.ts';

export interface Reading {
  value: number | null;
  target: number | null;
  status: Status;
}

/** The period a rule judges at `now`: the open one of its granularity, or the one before it. */
export function periodOfRule(rule: AlertRule, now: Date): Period {
  const current = periodOf(rule.granularity, now);
  if (rule.period === 'current') return current;
  return { start: previousPeriodStart(rule.granularity, current.start), end: current.start };
}

/**
 * One KPI's value for a period and many team scopes, judged against their targets exactly as
 * GET /v1/kpis/:id/values judges them (readValues): a stored value, or the KPI over no entities
 * when nothing was stored (0 for counts, null for ratios); "previous period" targets from the
 * period before. One query for every scope.
 */
export async function readScopes(
  storage: Storage,
  kpi: KpiDefinition,
  scope: { granularity: Granularity; tier: TierScope; teams: string[]; period: Period },
  overrides: TargetOverride[],
): Promise<Map<string, Reading>> {
  const { granularity, tier, teams, period } = scope;
  const previous: Period = { start: previousPeriodStart(granularity, period.start), end: period.start };
  const rows = await kpiValues.read(storage, { kpis: [kpi.id], granularity, tier, teams, from: previous.start, to: period.start });
  const stored = new Map(rows.map((row) => [`${row.team}|${row.start}`, row.value]));
  const valueAt = (team: string, at: Period) => {
    const key = `${team}|${kpiValues.startKey(at.start)}`;
    return stored.has(key) ? stored.get(key)! : emptyEvaluation(kpi, { period: at, at: at.end }).value;
  };
  const readings = new Map<string, Reading>();
  for (const team of teams) {
    const value = valueAt(team, period);
    const { target, status } = judge(applicableRule(kpi, { granularity, tier, team }, overrides), value, valueAt(team, previous));
    readings.set(team, { value, target, status });
  }
  return readings;
}
