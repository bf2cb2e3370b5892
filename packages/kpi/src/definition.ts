import type { Granularity } from '@kpi/queue';
import { mean, median, p90 } from '@kpi/stats';
import type { Entity } from './entities.ts';
import type { SourceName } from './sources.ts';

/** Every unit a KPI value can have; the API contract's enum and the formatters follow this list. */
export const UNITS = ['count', 'ratio', 'hours', 'days', 'ms', 'usd', 'usd_per_1k_requests', 'score', 'correlation', 'relative_lift'] as const;
export type Unit = (typeof UNITS)[number];
export const DIRECTIONS = ['higher_is_better', 'lower_is_better'] as const;
export type Direction = (typeof DIRECTIONS)[number];

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
  /** The instant that put it in this period (ISO), or the period end for live-state KPIs. */
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
  contributions: Contribution[];
}

export interface EvaluationContext {
  period: { start: Date; end: Date };
  /** The instant live-state KPIs are judged at: the period end, or now for the open period. */
  at: Date;
  /** List the contributing entities (a breakdown); a recompute only needs the numbers. */
  explain?: boolean;
}

/** Collects contributions only when the context asks for an explanation: they cost more than the value. */
export function contributionsFor(context: EvaluationContext) {
  const list: Contribution[] = [];
  return { list, add: (make: () => Contribution) => void (context.explain && list.push(make())) };
}

export interface KpiDefinition<E extends Entity = Entity> {
  id: string;
  name: string;
  description: string;
  unit: Unit;
  direction: Direction;
  /** Whether the KPI's events carry a tier; those that don't answer only tier = all. */
  tiered: boolean;
  source: SourceName;
  /** The entity instant that assigns it to a period, or 'period_end' for live state at the period end. */
  anchor: string;
  anchorOf(entity: E): number | null;
  targets: TargetRule[];
  evaluate(entities: E[], context: EvaluationContext): Evaluation;
  /**
   * Details on the entities open at the period end that the value cannot include, e.g. incidents
   * not yet mitigated: computed over the source's entities whose `anchor` is before the period end.
   */
  backlog?: { anchor: string; details(entities: E[], context: EvaluationContext): Record<string, unknown> };
}

/** Erases the entity type parameter so definitions of different sources share one catalog list. */
export function defineKpi<E extends Entity>(definition: KpiDefinition<E>): KpiDefinition {
  return definition as unknown as KpiDefinition;
}

type Anchored<E> = { entity: E; anchor: number };

function contribution<E extends Entity>(kind: string, item: Anchored<E>, counted: { num: boolean; den: boolean }, value: number | null, note?: string): Contribution {
  return {
    entity: item.entity.entity_id,
    kind,
    team: item.entity.team,
    tier: item.entity.tier,
    anchor: new Date(item.anchor).toISOString(),
    in_numerator: counted.num,
    in_denominator: counted.den,
    value,
    ...(note ? { note } : {}),
  };
}

const anchored = <E extends Entity>(definition: { anchorOf(entity: E): number | null }, entities: E[]): Anchored<E>[] =>
  entities.map((entity) => ({ entity, anchor: definition.anchorOf(entity)! }));

/** Counts entities matching `counts` (0 for an empty period), over the entities that report what it counts. */
export function countOf<E extends Entity>(kind: string, anchorOf: (e: E) => number | null, counts: (e: E) => number | boolean, reported: (e: E) => boolean = () => true) {
  return (entities: E[], context: EvaluationContext): Evaluation => {
    let total = 0;
    let sampleSize = 0;
    const contributions = contributionsFor(context);
    for (const item of anchored({ anchorOf }, entities)) {
      if (!reported(item.entity)) {
        contributions.add(() => contribution(kind, item, { num: false, den: false }, null, 'not reported'));
        continue;
      }
      sampleSize++;
      const n = Number(counts(item.entity));
      if (n > 0) {
        total += n;
        contributions.add(() => contribution(kind, item, { num: true, den: false }, n));
      }
    }
    return { value: total, numerator: null, denominator: null, sample_size: sampleSize, details: {}, contributions: contributions.list };
  };
}

/**
 * numerator / denominator over the entities in the denominator (null when there are none). An
 * entity outside it (a release that never reported the fact) is left out, not guessed, and a
 * breakdown lists it as "not reported".
 */
export function shareOf<E extends Entity>(kind: string, anchorOf: (e: E) => number | null, inDenominator: (e: E) => boolean, inNumerator: (e: E) => boolean) {
  return (entities: E[], context: EvaluationContext): Evaluation => {
    const contributions = contributionsFor(context);
    let numerator = 0;
    let denominator = 0;
    for (const item of anchored({ anchorOf }, entities)) {
      if (!inDenominator(item.entity)) {
        contributions.add(() => contribution(kind, item, { num: false, den: false }, null, 'not reported'));
        continue;
      }
      const num = inNumerator(item.entity);
      denominator++;
      if (num) numerator++;
      contributions.add(() => contribution(kind, item, { num, den: true }, num ? 1 : 0));
    }
    return {
      value: denominator === 0 ? null : numerator / denominator,
      numerator,
      denominator,
      sample_size: denominator,
      details: denominator === 0 ? { null_reason: 'no entities in the denominator for this period and scope' } : {},
      contributions: contributions.list,
    };
  };
}

/** Mean, median or sum of a per-entity quantity over the entities that have one. */
export function aggregateOf<E extends Entity>(
  kind: string,
  anchorOf: (e: E) => number | null,
  quantity: (e: E) => number | null | undefined,
  aggregate: 'mean' | 'median' | 'sum',
) {
  return (entities: E[], context: EvaluationContext): Evaluation => {
    const values: number[] = [];
    const contributions = contributionsFor(context);
    for (const item of anchored({ anchorOf }, entities)) {
      const value = quantity(item.entity);
      if (value === null || value === undefined || !Number.isFinite(value)) {
        contributions.add(() => contribution(kind, item, { num: false, den: false }, null, 'not reported'));
        continue;
      }
      values.push(value);
      contributions.add(() => contribution(kind, item, { num: true, den: false }, value));
    }
    const value = aggregate === 'mean' ? mean(values) : aggregate === 'median' ? median(values) : values.reduce((a, b) => a + b, 0);
    const details: Record<string, unknown> = {};
    if (aggregate === 'median') details.p90 = p90(values);
    if (value === null) details.null_reason = `no ${kind} with a value in this period and scope`;
    return {
      value,
      numerator: null,
      denominator: null,
      sample_size: values.length,
      details,
      contributions: contributions.list,
    };
  };
}

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
