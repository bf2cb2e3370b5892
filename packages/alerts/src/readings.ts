import { periodOf, previousPeriodStart, readValuesOf, type Forecast, type Granularity, type KpiDefinition, type Period, type Status, type TargetOverride, type TierScope, type ValueReader } from '@kpi/kpi';
import type { AlertRule } from './rule.ts';

export interface Reading {
  value: number | null;
  target: number | null;
  status: Status;
  forecast: Forecast | null;
}

/** The period a rule judges at `now`: the open one of its granularity, or the one before it. */
export function periodOfRule(rule: AlertRule, now: Date): Period {
  const current = periodOf(rule.granularity, now);
  if (rule.period === 'current') return current;
  return { start: previousPeriodStart(rule.granularity, current.start), end: current.start };
}

/** One KPI's value for a period and many team scopes, read, judged and forecast at `now` as GET /v1/kpis/:id/values does. */
export async function readScopes(
  values: ValueReader,
  kpi: KpiDefinition,
  scope: { granularity: Granularity; tier: TierScope; teams: string[]; period: Period },
  overrides: TargetOverride[],
  now: Date,
): Promise<Map<string, Reading>> {
  const { granularity, tier, teams, period } = scope;
  const readings = new Map<string, Reading>();
  for (const team of teams) {
    const [reading] = (await readValuesOf(values, [kpi], { granularity, tier, team }, [period], overrides, now)).get(kpi.id)!;
    readings.set(team, { value: reading!.value, target: reading!.target, status: reading!.status, forecast: reading!.forecast });
  }
  return readings;
}
