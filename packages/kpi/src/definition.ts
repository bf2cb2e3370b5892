import type { Sql } from '@kpi/storage';
import { GRANULARITIES, PERIODIC_GRANULARITIES, type Granularity } from './periods.ts';
import type { Direction, KpiGroup, Unit } from '@kpi/schemas';
import type { Source } from './source.ts';

/** Every unit a KPI value can have; the API contract's enum and the formatters follow this list. */
export { UNITS, DIRECTIONS, type Unit, type Direction } from '@kpi/schemas';

/** A target: a fixed threshold (optionally for some granularities or tier 1 only), or "no worse than the previous period". */
export type TargetRule =
  | { kind: 'threshold'; op: '>=' | '<='; value: number; granularities?: Granularity[]; tier1Only?: boolean }
  | { kind: 'previous_period'; op: '<=' };

/** How one entity entered a value: the drill-down row behind a number. */
export interface Contribution {
  entity: string;
  kind: string;
  team: string;
  tier: number | null;
  /** The instant that put it in this period (ISO), or the instant live state was judged at. */
  anchor: string;
  in_numerator: boolean;
  in_denominator: boolean;
  /** Its value in the aggregate: hours, a lift, a score, a request count, ... */
  value: number | null;
  note?: string;
}

export interface Evaluation {
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  sample_size: number;
  details: Record<string, unknown>;
}

/**
 * How a KPI's value comes out of its source's rows (one row per entity or sample, typed columns;
 * see sources.ts). Every expression is SQL over those columns, computed in ClickHouse for every
 * period, team and tier at once; `reported` leaves out the rows that do not report what is
 * measured (SPEC §5: missing facts are left out, not guessed).
 * - count: the sum of `count` (1 per row by default); 0 for an empty period
 * - share: rows matching `numerator` / rows (null for an empty period)
 * - ratio: scale x sum(numerator) / sum(denominator) (request-weighted means, cost per 1k, coverage)
 * - mean, median (p90 in details), p90, sum, min, max, count_distinct: of `of`, over the rows where it is not null
 * - largest: the largest `of` among the rows matching `where`, with `explain` (a named tuple) in details
 * - entities: evaluated in the process over parsed entities, for what SQL cannot do (experiment
 *   statistics); `valueIs` says when its value is a count of them, or a share (numerator of
 *   denominator), which is what a forecast models (SPEC §5c)
 */
export type Measure =
  | { kind: 'count'; count?: Sql; reported?: Sql }
  | { kind: 'share'; numerator: Sql; reported?: Sql }
  | { kind: 'ratio'; numerator: Sql; denominator: Sql; scale?: number; reported?: Sql }
  | { kind: 'mean' | 'median' | 'p90' | 'sum' | 'min' | 'max' | 'count_distinct'; of: Sql }
  | { kind: 'largest'; of: Sql; where: Sql; explain: Sql }
  | { kind: 'entities'; evaluate(entities: never[], context: EvaluationContext): Evaluation & { contributions: Contribution[] }; valueIs?: 'count' | 'share' };

export type MeasureKind = Measure['kind'];

/**
 * An aggregate function call over a source's rows: `fn` with its combinators (`sumIf`),
 * parametric `params` (`0.5, 0.9`) and its arguments. Kept apart so that the engine can compute it
 * in one step, or as partial states merged later (-State / -Merge).
 */
export interface Aggregate {
  fn: string;
  params?: string;
  args: Sql[];
}

export const aggregate = (fn: string, args: Sql[], params?: string): Aggregate => ({ fn, args, ...(params ? { params } : {}) });

export interface EvaluationContext {
  period: { start: Date; end: Date };
  /** The instant live-state KPIs are judged at: the period end, or now for the open period. */
  at: Date;
  /** List the contributing entities (a breakdown); a recompute only needs the numbers. */
  explain?: boolean;
}

export interface KpiDefinition {
  id: string;
  name: string;
  description: string;
  unit: Unit;
  direction: Direction;
  /** Whether the KPI's events carry a tier; those that don't answer only tier = all. */
  tiered: boolean;
  /** Where its rows come from. */
  source: Source;
  /** The row instant (a column of the source's rows) that assigns a value to a period, or 'period_end' for live state. */
  anchor: string;
  measure: Measure;
  targets: TargetRule[];
  /** Aggregates over the same rows that go into the value's details under their key. */
  details?: Record<string, Aggregate>;
  /** In a breakdown: each row's value (default: what the measure aggregates) and note. */
  rowValue?: Sql;
  note?: Sql;
  /**
   * Details on the entities open at the period end that the value cannot include (incidents not
   * yet mitigated past their target): computed for each period at the instant it is judged.
   */
  backlog?: Backlog;
  /** The built-in alert rule when its target is breached, where someone should hear about it. */
  defaultAlert?: DefaultAlert;
  /** Presentation group (KPI_GROUP_ORDER) the dashboard, reports and Grafana show it in. */
  group: KpiGroup;
  /** Also offered per day (SPEC §5: where the blueprint measures daily, and every custom KPI). */
  daily?: boolean;
  /** Defined by the organisation (SPEC §5b), not by the catalog. */
  custom?: boolean;
}

/**
 * The built-in alert rule on a KPI's target (packages/alerts DEFAULT_RULES), one per team: its
 * name (stable: a rules file replaces it by name), scope, `for`, severity and summary template.
 */
export interface DefaultAlert {
  rule: string;
  tier?: '1';
  granularity: Granularity;
  for: string;
  severity: 'critical' | 'warning';
  summary: string;
}

/**
 * Rows of the source still open past the KPI's target at the instant a period is judged at (`at`,
 * an SQL expression); the target is the scope's (see backlogTarget).
 */
export interface Backlog {
  /** Whether a row is open at `at`, past `target` (an SQL expression in the KPI's unit). */
  open(at: Sql, target: Sql): Sql;
  /** Name of the count in details; up to 50 open rows go under `<name>_<entity>s`. */
  name: string;
  /** The named tuple listed for each open row. */
  explain(at: Sql): Sql;
}

export function defineKpi(definition: KpiDefinition): KpiDefinition {
  return definition;
}

/** The granularities a KPI's values are computed and served at. */
export const granularitiesOf = (kpi: KpiDefinition): readonly Granularity[] => (kpi.daily ? GRANULARITIES : PERIODIC_GRANULARITIES);

/** Why a KPI cannot be asked for at a granularity (SPEC §5: naming the ones it has), or undefined when it can. */
export const granularityRefusal = (kpi: KpiDefinition, granularity: Granularity): string | undefined =>
  granularitiesOf(kpi).includes(granularity) ? undefined : `${kpi.id} is computed per ${granularitiesOf(kpi).join(', ')}; not per ${granularity}`;

export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** The value of a period with nothing in it: 0 for counts and sums, null for the rest (SPEC §5). */
export function emptyEvaluation(kpi: KpiDefinition, context: EvaluationContext): Evaluation {
  const { measure } = kpi;
  if (measure.kind === 'entities') {
    const { value, numerator, denominator, sample_size, details } = measure.evaluate([], context);
    return { value, numerator, denominator, sample_size, details };
  }
  const zero = measure.kind === 'count' || measure.kind === 'sum' || measure.kind === 'count_distinct';
  const fraction = measure.kind === 'share' || measure.kind === 'ratio';
  return {
    value: zero ? 0 : null,
    numerator: fraction ? 0 : null,
    denominator: fraction ? 0 : null,
    sample_size: 0,
    details: zero ? {} : { null_reason: nullReason(kpi, 0) },
  };
}

/** Why a value is null, in the words of its measure. */
export function nullReason(kpi: KpiDefinition, sampleSize: number): string {
  if (kpi.anchor === 'period_end' && sampleSize === 0) return 'no live production model at the period end';
  switch (kpi.measure.kind) {
    case 'share':
      return 'no entities in the denominator for this period and scope';
    case 'ratio':
      return sampleSize === 0 ? 'nothing reported in this period and scope' : 'the denominator is 0 in this period and scope';
    default:
      return 'no entities with a value in this period and scope';
  }
}
