/** The words a KPI is described in: its periods, units, direction, status and tiers. */

/** Periods are half-open [start, end) in UTC: days, ISO weeks (Monday), calendar months, quarters and years. */
export const GRANULARITIES = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
/** What every KPI offers; `day` only those that measure daily (KpiDefinition.daily). */
export const PERIODIC_GRANULARITIES = ['week', 'month', 'quarter', 'year'] as const satisfies readonly Granularity[];

/** How many periods a series shows when no range is asked for (SPEC §6): the last 30 days, else the last 12 periods. */
export const defaultPeriodCount = (granularity: Granularity) => (granularity === 'day' ? 30 : 12);

export const UNITS = ['count', 'ratio', 'share', 'hours', 'days', 'ms', 'usd', 'usd_per_1k_requests', 'score', 'number', 'correlation', 'relative_lift'] as const;
export type Unit = (typeof UNITS)[number];
export const DIRECTIONS = ['higher_is_better', 'lower_is_better'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const STATUSES = ['met', 'breached', 'no_target', 'no_data'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * Presentation groups of the catalog, in the order science leads read a scorecard (dashboard,
 * reports and Grafana alike). Every KPI names its group in its catalog entry.
 */
export const KPI_GROUP_ORDER = [
  'Delivery and model quality',
  'Experimentation',
  'Incidents and alerting',
  'Monitoring and data',
  'Serving and cost',
  'Engineering practice',
  'Stakeholders',
  'Custom',
] as const;
export type KpiGroup = (typeof KPI_GROUP_ORDER)[number];

/** A tier (1 = most critical) a KPI is cut to, or all of them. */
export const TIER_SCOPES = ['all', '1', '2', '3'] as const;
export type TierScope = (typeof TIER_SCOPES)[number];

/** A KPI id, built-in or custom. */
export const KPI_ID = /^[a-z][a-z0-9_]{2,63}$/;
/** A team as events carry it (`all`, which it admits, names the whole organisation where a team is asked for). */
export const TEAM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
