import { compileSchema, CUSTOM_TYPE_PATTERN, EVENT_TYPES, isCustomType, isEventType, type EventRef } from '@kpi/events';
import { join, param, raw, sql, type Sql } from '@kpi/storage';
import { KPI_ID } from '@kpi/schemas';
import { z } from 'zod';
import type { KpiDefinition, Measure, TargetRule, Unit } from '../definition.ts';
import { GRANULARITIES } from '../periods.ts';
import type { Source } from '../source.ts';
import { eventsOnce } from '../source.ts';
import { withYearlyTargets } from '../targets.ts';

/**
 * A KPI an organisation defines without code (SPEC §5b): which events, where the team, tier and
 * instant are in them, which filter, which aggregate. The engine computes it like a built-in
 * KPI, from SQL generated here; every field path and value is a query parameter, so no
 * definition can run SQL of its own.
 */
const FIELD = /^data(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const field = z.string().regex(FIELD, 'expected a field of the data, data.<name>[.<name>...]');
const filters = z.record(field, z.union([z.string(), z.number().finite(), z.boolean()], { error: 'expected a string, a number or a boolean' }));
const CUSTOM_UNITS = ['count', 'share', 'ratio', 'hours', 'days', 'ms', 'usd', 'score', 'number'] as const satisfies readonly Unit[];
const FIELD_AGGREGATES = ['sum', 'mean', 'median', 'p90', 'min', 'max', 'count_distinct'] as const;
/** A KPI id, built-in or custom (defined in @kpi/schemas). */
export { KPI_ID };

/** A definition's fields, as the API contract documents them; customKpiSchema adds the rules between fields. */
export const customKpiFields = z.strictObject({
  id: z.string().regex(KPI_ID, `expected ${KPI_ID.source}`),
  name: z.string().min(1).max(120),
  description: z.string().max(2000).default(''),
  unit: z.enum(CUSTOM_UNITS),
  direction: z.enum(['higher', 'lower']),
  source: z.string().refine((type) => isEventType(type) || CUSTOM_TYPE_PATTERN.test(type), {
    error: `expected a built-in event type (${EVENT_TYPES.join(', ')}) or custom.<name> (${CUSTOM_TYPE_PATTERN.source})`,
  }),
  schema: z.record(z.string(), z.unknown()).optional(),
  team: field.default('data.team'),
  tier: field.optional(),
  anchor: z.union([z.literal('time'), field], { error: 'expected time or data.<field>' }).default('time'),
  where: filters.optional(),
  value: z.discriminatedUnion(
    'agg',
    [
      z.strictObject({ agg: z.literal('count') }),
      z.strictObject({ agg: z.literal('share'), match: filters.refine((match) => Object.keys(match).length > 0, 'expected at least one field to match') }),
      z.strictObject({ agg: z.enum(FIELD_AGGREGATES), field }),
    ],
    { error: `expected agg: count, share or one of ${FIELD_AGGREGATES.join(', ')}` },
  ),
  targets: z.array(z.strictObject({ op: z.enum(['>=', '<=']), value: z.number().finite(), granularity: z.enum(GRANULARITIES).optional() })).default([]),
});

export const customKpiSchema = customKpiFields.superRefine((definition, ctx) => {
  if (isCustomType(definition.source) && !definition.schema) {
    ctx.addIssue({ code: 'custom', path: ['schema'], message: `required: the JSON Schema of the data of ${definition.source}` });
  }
  if (!isCustomType(definition.source) && definition.schema) {
    ctx.addIssue({ code: 'custom', path: ['schema'], message: `only custom.<name> sources take a schema; ${definition.source} has its own` });
  }
  if (definition.schema) {
    try {
      compileSchema(definition.source, definition.schema);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['schema'], message: (error as Error).message });
    }
  }
});

export type CustomKpiDefinition = z.infer<typeof customKpiSchema>;
export type CustomKpiInput = z.input<typeof customKpiSchema>;

export class DefinitionError extends Error {
  override name = 'DefinitionError';
}

/** Parses a definition; a DefinitionError names the field and the rule. */
export function parseCustomKpi(input: unknown): CustomKpiDefinition {
  const result = customKpiSchema.safeParse(input);
  if (result.success) return result.data;
  throw new DefinitionError(result.error.issues.map((issue) => `${issue.path.join('.') || '(definition)'}: ${issue.message}`).join('; '));
}

/** `data.a.b` -> the keys ['a', 'b'] as query parameters. */
const keysOf = (path: string): Sql => join(path.split('.').slice(1).map((key) => param(key, 'String')), ', ');
const extract = (path: string, type: string): Sql => sql`JSONExtract(data, ${keysOf(path)}, ${param(type, 'String')})`;

/** A field equal to a value, typed by the value (a missing field is never equal). */
function equals(path: string, value: string | number | boolean): Sql {
  if (typeof value === 'string') return sql`${extract(path, 'Nullable(String)')} = ${param(value, 'String')}`;
  if (typeof value === 'boolean') return sql`${extract(path, 'Nullable(Bool)')} = ${param(value, 'Bool')}`;
  return sql`${extract(path, 'Nullable(Float64)')} = ${param(value, 'Float64')}`;
}
const allOf = (conditions: Record<string, string | number | boolean> | undefined): Sql =>
  conditions && Object.keys(conditions).length > 0 ? join(Object.entries(conditions).map(([path, value]) => sql`coalesce(${equals(path, value)}, false)`), ' AND ') : raw('1');

/** The value of a field path in event data (planning reads the team and anchor of an event this way). */
function valueAt(data: Record<string, unknown> | undefined, path: string): unknown {
  let value: unknown = data;
  for (const key of path.split('.').slice(1)) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** The rows of a custom KPI: one per event of its source (counted once), with its team, tier, instant and value. */
function customSource(definition: CustomKpiDefinition): Source {
  const type = definition.source as EventRef['type'];
  // Custom types live with the other low-volume samples; built-in types are read from `events`.
  const table = isCustomType(type) ? 'signal_events' : 'events';
  const anchorByTime = definition.anchor === 'time';
  const anchor = anchorByTime ? raw('time') : sql`parseDateTime64BestEffortOrNull(${extract(definition.anchor, 'Nullable(String)')}, 3, 'UTC')`;
  const valueField = 'field' in definition.value ? definition.value.field : undefined;
  const readsData = !anchorByTime || definition.team !== 'data.team';
  return {
    name: `custom:${definition.id}`,
    entity: 'event',
    tiered: definition.tier !== undefined,
    eventTypes: [type],
    planning: {
      kind: 'sample',
      // Planning needs the data only when the team or the instant is elsewhere than usual.
      ...(readsData
        ? {
            readsData: true,
            locate: (ref: EventRef) => {
              const team = valueAt(ref.data, definition.team);
              const at = anchorByTime ? ref.time : valueAt(ref.data, definition.anchor);
              return typeof team === 'string' && typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? { team, time: Date.parse(at) } : undefined;
            },
          }
        : {}),
    },
    rows: (ranges) => sql`
      SELECT concat(source, '/', id) AS entity_id,
        ${extract(definition.team, 'String')} AS team,
        ${definition.tier ? sql`toUInt8(${extract(definition.tier, 'UInt8')})` : raw('toUInt8(0)')} AS tier,
        ${anchor} AS anchor_at,
        ${valueField ? sql`${extract(valueField, 'Nullable(Float64)')}` : raw('CAST(NULL, \'Nullable(Float64)\')')} AS field_value,
        ${valueField ? sql`JSONExtractRaw(data, ${keysOf(valueField)})` : raw("''")} AS field_raw,
        ${definition.value.agg === 'share' ? allOf(definition.value.match) : raw('1')} AS matches
      FROM (${eventsOnce(table, anchorByTime ? ranges : undefined, sql`type = ${param(type, 'String')}`)})
      WHERE ${allOf(definition.where)}`,
  };
}

function measureOf(definition: CustomKpiDefinition): Measure {
  const value = definition.value;
  switch (value.agg) {
    case 'count':
      return { kind: 'count' };
    case 'share':
      return { kind: 'share', numerator: raw('matches') };
    case 'count_distinct':
      // Distinct by the field's JSON text, so strings, numbers and objects all count.
      return { kind: 'count_distinct', of: raw("nullIf(field_raw, '')") };
    default:
      return { kind: value.agg, of: raw('field_value') };
  }
}

/** Its targets; a count or a sum given per quarter also applies, times 4, to the year (SPEC §5). */
function targetsOf(definition: CustomKpiDefinition): TargetRule[] {
  const rules: TargetRule[] = definition.targets.map((target) => ({ kind: 'threshold', op: target.op, value: target.value, ...(target.granularity ? { granularities: [target.granularity] } : {}) }));
  return ['count', 'sum', 'count_distinct'].includes(definition.value.agg) ? withYearlyTargets(rules) : rules;
}

/** The catalog entry of a custom KPI, computed, served, alerted on and reported like a built-in one. */
export function customKpi(definition: CustomKpiDefinition): KpiDefinition {
  return {
    id: definition.id,
    name: definition.name,
    description: definition.description || definition.name,
    unit: definition.unit,
    direction: definition.direction === 'higher' ? 'higher_is_better' : 'lower_is_better',
    tiered: definition.tier !== undefined,
    source: customSource(definition),
    anchor: 'anchor_at',
    measure: measureOf(definition),
    targets: targetsOf(definition),
    rowValue: definition.value.agg === 'count' || definition.value.agg === 'share' ? undefined : raw('field_value'),
    group: 'Custom',
    daily: true,
    custom: true,
  };
}
