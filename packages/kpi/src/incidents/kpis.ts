import { raw, sql, type Sql } from '@kpi/storage';
import { defineKpi, type KpiDefinition } from '../definition.ts';
import { incidents, TTD_TARGET_HOURS, TTM_TARGET_HOURS } from './rows.ts';

const base = { source: incidents, tiered: true } as const;
const hoursBetween = (from: string, to: string) => raw(`(toUnixTimestamp64Milli(${to}) - toUnixTimestamp64Milli(${from})) / 3600000`);

/**
 * Incidents detected at least the TTM target (hours: the scope's, overrides included) before `at`
 * and not mitigated by then: what a median over mitigated incidents cannot show.
 */
const openPastTarget = {
  name: 'open_past_target',
  open: (at: Sql, targetHours: Sql) =>
    sql`toUnixTimestamp64Milli(detected_at) <= toUnixTimestamp64Milli(${at}) - ${targetHours} * 3600000 AND (mitigated_at IS NULL OR mitigated_at > ${at})`,
  explain: (at: Sql) =>
    sql`CAST((entity_id, team, if(tier = 0, NULL, tier), (toUnixTimestamp64Milli(${at}) - toUnixTimestamp64Milli(detected_at)) / 3600000), 'Tuple(incident_id String, team String, tier Nullable(UInt8), hours_open Float64)')`,
};

export const incidentKpis: KpiDefinition[] = [
  defineKpi({
    ...base,
    anchor: 'opened_at',
    id: 'sev0_incidents',
    group: 'Incidents and alerting',
    name: 'Sev0 incidents',
    description: 'Count of incidents whose latest severity is sev0, by opened time.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0 }],
    defaultAlert: { rule: 'sev0-incidents', granularity: 'month', for: '0s', severity: 'critical', summary: '{{team}} had {{value}} sev0 incident(s) in {{period}}' },
    measure: { kind: 'count', count: raw("severity = 'sev0'") },
  }),
  defineKpi({
    ...base,
    anchor: 'opened_at',
    id: 'model_incidents',
    group: 'Incidents and alerting',
    name: 'Model incidents',
    description: 'Count of incidents with category model or data_pipeline, by opened time.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    measure: { kind: 'count', count: raw("category IN ('model', 'data_pipeline')") },
  }),
  defineKpi({
    ...base,
    anchor: 'opened_at',
    id: 'data_quality_incidents',
    group: 'Incidents and alerting',
    name: 'Data quality incidents',
    description: 'Count of incidents with category data_quality or data_pipeline, by opened time.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    measure: { kind: 'count', count: raw("category IN ('data_quality', 'data_pipeline')") },
  }),
  defineKpi({
    ...base,
    anchor: 'opened_at',
    id: 'time_to_detect_hours',
    group: 'Incidents and alerting',
    name: 'Time to detect',
    description: 'Median hours from degradation start (started_at) to detection (detected_at), over incidents that report both, by opened time; p90 in details.',
    unit: 'hours',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: TTD_TARGET_HOURS, tier1Only: true }],
    defaultAlert: { rule: 'ttd-over-target-tier1', tier: '1', granularity: 'month', for: '30m', severity: 'warning', summary: 'Tier-1 time to detect for {{team}} is {{value}} h in {{period}}, over the {{target}} h target' },
    measure: { kind: 'median', of: hoursBetween('started_at', 'detected_at') },
  }),
  defineKpi({
    ...base,
    anchor: 'mitigated_at',
    id: 'time_to_mitigate_hours',
    group: 'Incidents and alerting',
    name: 'Time to mitigate',
    description: 'Median hours from detection to the first mitigation (or, with none, the first resolution), by that time; p90 and still-open incidents past target in details.',
    unit: 'hours',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: TTM_TARGET_HOURS, tier1Only: true }],
    defaultAlert: { rule: 'ttm-over-target-tier1', tier: '1', granularity: 'month', for: '30m', severity: 'critical', summary: 'Tier-1 time to mitigate for {{team}} is {{value}} h in {{period}}, over the {{target}} h target' },
    measure: { kind: 'median', of: hoursBetween('detected_at', 'mitigated_at') },
    backlog: openPastTarget,
  }),
];
