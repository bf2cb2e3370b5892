import type { CustomKpiInput } from '@kpi/kpi';

/**
 * The demo organisation's own KPI (SPEC §5b), so a new user sees a custom KPI on first start: each
 * team's labelling queues report weekly how many days their oldest unlabelled example has waited.
 */
export const DEMO_CUSTOM_KPI = {
  id: 'labelling_backlog_days',
  name: 'Labelling backlog',
  description: "Mean age, in days, of the oldest unlabelled example of each team's labelling queues, reported weekly (a custom KPI of the demo organisation).",
  unit: 'days',
  direction: 'lower',
  source: 'custom.labelling_queue',
  schema: {
    type: 'object',
    required: ['team', 'queue', 'backlog_days'],
    properties: { team: { type: 'string' }, queue: { type: 'string' }, backlog_days: { type: 'number', minimum: 0 } },
  },
  value: { agg: 'mean', field: 'data.backlog_days' },
  targets: [{ op: '<=', value: 7 }],
} satisfies CustomKpiInput;
