import { CATALOG, forecastModelOf } from '@kpi/kpi';
import type { AlertRuleInput } from './rule.ts';

/**
 * The built-in rule set: one rule per blueprint target that someone should hear about, each
 * team separately. Without receivers they show in GET /v1/alerts and on the dashboard; give the
 * rules file `default_receivers` to have them notify, replace one by name in the file or through
 * the API, or switch them all off with ALERT_DEFAULT_RULES=0.
 */
const base = { scope: 'each_team' as const, condition: 'target_breached' as const, group_by: ['alertname', 'team'] };

/**
 * A warning while a count target is still reachable: one rule per count target of the catalog
 * (a count KPI's target given per granularity), firing while the period under way is forecast to
 * miss it (SPEC 5c), so the team hears about it while it can still act.
 */
const forecastRules: AlertRuleInput[] = CATALOG.filter((kpi) => forecastModelOf(kpi) === 'count').flatMap((kpi) =>
  kpi.targets.flatMap((target) =>
    target.kind === 'threshold' && target.granularities
      ? target.granularities.map((granularity) => ({
          ...base,
          name: `${kpi.id.replaceAll('_', '-')}-${granularity}-at-risk`,
          kpi: kpi.id,
          granularity,
          condition: 'forecast' as const,
          for: '1h',
          severity: 'warning' as const,
          annotations: { summary: `{{kpi_name}} of {{team}}: {{value}} so far in {{period}}, projected {{forecast}}; {{probability_met}} chance of reaching the target of {{target}}` },
        }))
      : [],
  ),
);

export const DEFAULT_RULES: AlertRuleInput[] = [
  {
    ...base,
    name: 'ttm-over-target-tier1',
    kpi: 'time_to_mitigate_hours',
    tier: '1',
    granularity: 'month',
    for: '30m',
    severity: 'critical',
    annotations: { summary: 'Tier-1 time to mitigate for {{team}} is {{value}} h in {{period}}, over the {{target}} h target' },
  },
  {
    ...base,
    name: 'ttd-over-target-tier1',
    kpi: 'time_to_detect_hours',
    tier: '1',
    granularity: 'month',
    for: '30m',
    severity: 'warning',
    annotations: { summary: 'Tier-1 time to detect for {{team}} is {{value}} h in {{period}}, over the {{target}} h target' },
  },
  {
    ...base,
    name: 'sev0-incidents',
    kpi: 'sev0_incidents',
    granularity: 'month',
    for: '0s',
    severity: 'critical',
    annotations: { summary: '{{team}} had {{value}} sev0 incident(s) in {{period}}' },
  },
  {
    ...base,
    name: 'drift-feature-coverage-below-target',
    kpi: 'drift_feature_coverage',
    granularity: 'month',
    for: '1h',
    severity: 'warning',
    annotations: { summary: 'Drift monitoring covers {{value}} of the critical features of {{team}}\'s live models (target {{target}})' },
  },
  {
    ...base,
    name: 'drift-model-coverage-below-target-tier1',
    kpi: 'drift_model_coverage',
    tier: '1',
    granularity: 'month',
    for: '1h',
    severity: 'warning',
    annotations: { summary: 'Only {{value}} of {{team}}\'s live tier-1 models have drift detection with alerting (target {{target}})' },
  },
  {
    ...base,
    name: 'srm-failures',
    kpi: 'srm_failure_rate',
    granularity: 'month',
    for: '0s',
    severity: 'warning',
    annotations: { summary: '{{value}} of {{team}}\'s experiment readouts in {{period}} fail the sample-ratio check (target {{target}})' },
  },
  {
    ...base,
    name: 'guardrail-breaches',
    kpi: 'guardrail_breaches',
    granularity: 'quarter',
    for: '0s',
    severity: 'critical',
    annotations: { summary: '{{team}} shipped {{value}} experiment(s) with a significant guardrail regression in {{period}}' },
  },
  {
    ...base,
    name: 'change-failure-rate-over-target',
    kpi: 'change_failure_rate',
    granularity: 'quarter',
    for: '0s',
    severity: 'warning',
    annotations: { summary: 'Change failure rate of {{team}} is {{value}} in {{period}} (target {{target}})' },
  },
  {
    ...base,
    name: 'data-freshness-sla-breached',
    kpi: 'data_freshness_sla',
    granularity: 'month',
    for: '1h',
    severity: 'warning',
    annotations: { summary: '{{value}} of {{team}}\'s dataset arrivals met their SLA in {{period}} (target {{target}})' },
  },
  {
    ...base,
    name: 'data-validation-pass-rate-below-target',
    kpi: 'data_validation_pass_rate',
    granularity: 'month',
    for: '1h',
    severity: 'warning',
    annotations: { summary: '{{value}} of {{team}}\'s data validations passed in {{period}} (target {{target}})' },
  },
  {
    ...base,
    name: 'inference-latency-over-target',
    kpi: 'inference_latency_p95_ms',
    granularity: 'week',
    for: '1h',
    severity: 'warning',
    annotations: { summary: 'Request-weighted p95 latency of {{team}} is {{value}} ms in {{period}} (target {{target}} ms)' },
  },
  ...forecastRules,
];
