import { aggregateOf, countOf, defineKpi, HOUR, type Evaluation } from '../definition.ts';
import type { Incident } from '../entities.ts';

const opened = (incident: Incident) => incident.opened_at;
const mitigated = (incident: Incident) => incident.mitigated_at;
const base = { source: 'incidents', tiered: true } as const;
const TTM_TARGET_HOURS = 72;

export const incidentKpis = [
  defineKpi<Incident>({
    ...base,
    anchor: 'opened_at',
    anchorOf: opened,
    id: 'sev0_incidents',
    name: 'Sev0 incidents',
    description: 'Count of incidents whose latest severity is sev0, by opened time.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0 }],
    evaluate: countOf('incident', opened, (incident) => incident.severity === 'sev0'),
  }),
  defineKpi<Incident>({
    ...base,
    anchor: 'opened_at',
    anchorOf: opened,
    id: 'model_incidents',
    name: 'Model incidents',
    description: 'Count of incidents with category model or data_pipeline, by opened time.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    evaluate: countOf('incident', opened, (incident) => incident.category === 'model' || incident.category === 'data_pipeline'),
  }),
  defineKpi<Incident>({
    ...base,
    anchor: 'opened_at',
    anchorOf: opened,
    id: 'data_quality_incidents',
    name: 'Data quality incidents',
    description: 'Count of incidents with category data_quality or data_pipeline, by opened time.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    evaluate: countOf('incident', opened, (incident) => incident.category === 'data_quality' || incident.category === 'data_pipeline'),
  }),
  defineKpi<Incident>({
    ...base,
    anchor: 'opened_at',
    anchorOf: opened,
    id: 'time_to_detect_hours',
    name: 'Time to detect',
    description: 'Median hours from degradation start (started_at) to detection (detected_at), by opened time; p90 in details.',
    unit: 'hours',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 24, tier1Only: true }],
    evaluate: aggregateOf('incident', opened, (incident) => (incident.started_at === null ? null : (incident.detected_at - incident.started_at) / HOUR), 'median'),
  }),
  defineKpi<Incident>({
    ...base,
    anchor: 'mitigated_at',
    anchorOf: mitigated,
    id: 'time_to_mitigate_hours',
    name: 'Time to mitigate',
    description: 'Median hours from detection to the first mitigation, by first mitigation time; p90 and still-open incidents past target in details.',
    unit: 'hours',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: TTM_TARGET_HOURS, tier1Only: true }],
    evaluate: aggregateOf('incident', mitigated, (incident) => (incident.mitigated_at! - incident.detected_at) / HOUR, 'median'),
    backlog: { anchor: 'opened_at', details: (incidents, context) => openPastTarget(incidents, context.at.getTime()) },
  }),
];

/**
 * Incidents detected before `at`, not mitigated by then, and open longer than the TTM target:
 * the ones a median over mitigated incidents cannot show.
 */
function openPastTarget(incidents: Incident[], at: number): Evaluation['details'] {
  const late = incidents.filter((incident) => (incident.mitigated_at === null || incident.mitigated_at > at) && incident.detected_at <= at - TTM_TARGET_HOURS * HOUR);
  return {
    open_past_target: late.length,
    open_past_target_incidents: late.slice(0, 50).map((incident) => ({ incident_id: incident.entity_id, team: incident.team, tier: incident.tier, hours_open: (at - incident.detected_at) / HOUR })),
  };
}
