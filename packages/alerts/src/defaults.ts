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

/** One rule per catalog KPI with a default alert (its `defaultAlert`), firing while its target is breached. */
const targetRules: AlertRuleInput[] = CATALOG.flatMap(({ id, defaultAlert }) =>
  defaultAlert
    ? [
        {
          ...base,
          name: defaultAlert.rule,
          kpi: id,
          ...(defaultAlert.tier ? { tier: defaultAlert.tier } : {}),
          granularity: defaultAlert.granularity,
          for: defaultAlert.for,
          severity: defaultAlert.severity,
          annotations: { summary: defaultAlert.summary },
        },
      ]
    : [],
);

export const DEFAULT_RULES: AlertRuleInput[] = [...targetRules, ...forecastRules];
