import { join, raw, sql, type Sql } from '@kpi/storage';
import { aggregate, emptyEvaluation, nullReason, type Aggregate, type Evaluation, type KpiDefinition } from '../definition.ts';

/** The SQL measures: every kind but `entities`, which the process evaluates. */
export type SqlKpi = KpiDefinition & { measure: Exclude<KpiDefinition['measure'], { kind: 'entities' }> };

export const isSqlKpi = (kpi: KpiDefinition): kpi is SqlKpi => kpi.measure.kind !== 'entities';

/** A condition that is false, not NULL, where its columns are NULL. */
const truth = (condition: Sql | undefined): Sql => (condition ? sql`coalesce(toUInt8(${condition}), 0)` : raw('1'));
const number = (expression: Sql): Sql => sql`toFloat64(${expression})`;

/**
 * The aggregates of one KPI over its rows, named with `prefix`: what `evaluationOf` reads back.
 * All of a source's KPIs go into one query, so every name is prefixed.
 */
export function aggregatesOf(kpi: SqlKpi, prefix: string): { name: string; aggregate: Aggregate }[] {
  const m = kpi.measure;
  const columns: { name: string; aggregate: Aggregate }[] = [];
  const add = (name: string, fn: string, args: Sql[], params?: string) => columns.push({ name: `${prefix}_${name}`, aggregate: aggregate(fn, args, params) });
  switch (m.kind) {
    case 'count':
      add('value', 'sumIf', [number(m.count ?? raw('1')), truth(m.reported)]);
      add('n', 'countIf', [truth(m.reported)]);
      break;
    case 'share':
      add('num', 'countIf', [sql`${truth(m.reported)} AND ${truth(m.numerator)}`]);
      add('den', 'countIf', [truth(m.reported)]);
      break;
    case 'ratio':
      // The scale applies to each row, as a sum of scaled amounts (1000 x cost per request).
      add('num', 'sumIf', [sql`${number(m.numerator)} * ${raw(String(m.scale ?? 1))}`, truth(m.reported)]);
      add('den', 'sumIf', [number(m.denominator), truth(m.reported)]);
      add('n', 'countIf', [truth(m.reported)]);
      break;
    case 'median':
      add('q', 'quantilesExactInclusiveIf', [number(m.of), sql`isNotNull(${m.of})`], '0.5, 0.9');
      add('n', 'countIf', [sql`isNotNull(${m.of})`]);
      break;
    case 'p90':
      add('value', 'quantileExactInclusiveIf', [number(m.of), sql`isNotNull(${m.of})`], '0.9');
      add('n', 'countIf', [sql`isNotNull(${m.of})`]);
      break;
    case 'mean':
    case 'sum':
    case 'min':
    case 'max':
      add('value', { mean: 'avgIf', sum: 'sumIf', min: 'minIf', max: 'maxIf' }[m.kind], [number(m.of), sql`isNotNull(${m.of})`]);
      add('n', 'countIf', [sql`isNotNull(${m.of})`]);
      break;
    case 'count_distinct':
      add('value', 'uniqExactIf', [m.of, sql`isNotNull(${m.of})`]);
      add('n', 'countIf', [sql`isNotNull(${m.of})`]);
      break;
    case 'largest':
      add('value', 'maxIf', [number(m.of), truth(m.where)]);
      add('explain', 'argMaxIf', [m.explain, number(m.of), truth(m.where)]);
      add('n', 'countIf', [truth(m.where)]);
      break;
  }
  for (const [key, detail] of Object.entries(kpi.details ?? {})) columns.push({ name: `${prefix}_detail_${key}`, aggregate: detail });
  return columns;
}

/** The call of an aggregate computed in one step (`value`), or as a partial state (`state`). */
export function aggregateCall(column: { aggregate: Aggregate }, step: 'value' | 'state'): Sql {
  const { fn, params, args } = column.aggregate;
  return sql`${raw(step === 'state' ? `${fn}State` : fn)}${raw(params ? `(${params})` : '')}(${join(args, ', ')})`;
}

/** An aggregate computed in one step (`in: 'value'`), as a partial state (`'state'`), or merging states named after it (`'merge'`). */
export function renderAggregate(column: { name: string; aggregate: Aggregate }, step: 'value' | 'state' | 'merge'): Sql {
  const { fn, params } = column.aggregate;
  switch (step) {
    case 'value':
      return sql`${aggregateCall(column, 'value')} AS ${raw(column.name)}`;
    case 'state':
      return sql`${aggregateCall(column, 'state')} AS ${raw(`state_${column.name}`)}`;
    case 'merge':
      return sql`${raw(`${fn}Merge`)}${raw(params ? `(${params})` : '')}(${raw(`state_${column.name}`)}) AS ${raw(column.name)}`;
  }
}

/** A KPI's aggregate column in a result row (module functions, not closures made per row: a rebuild reads hundreds of thousands). */
const column = (row: Record<string, unknown>, prefix: string, name: string) => row[`${prefix}_${name}`];
const numberAt = (row: Record<string, unknown>, prefix: string, name: string) => Number(column(row, prefix, name));

/** The evaluation of one KPI from its aggregate columns in a result row. */
export function evaluationOf(kpi: SqlKpi, prefix: string, row: Record<string, unknown>): Evaluation {
  const m = kpi.measure;
  let evaluation: Evaluation;
  switch (m.kind) {
    case 'count':
      evaluation = { value: numberAt(row, prefix, 'value'), numerator: null, denominator: null, sample_size: numberAt(row, prefix, 'n'), details: {} };
      break;
    case 'share': {
      const [numerator, denominator] = [numberAt(row, prefix, 'num'), numberAt(row, prefix, 'den')];
      evaluation = { value: denominator === 0 ? null : numerator / denominator, numerator, denominator, sample_size: denominator, details: {} };
      break;
    }
    case 'ratio': {
      const [numerator, denominator] = [numberAt(row, prefix, 'num'), numberAt(row, prefix, 'den')];
      evaluation = { value: denominator === 0 ? null : numerator / denominator, numerator, denominator, sample_size: numberAt(row, prefix, 'n'), details: {} };
      break;
    }
    case 'median': {
      const n = numberAt(row, prefix, 'n');
      const [median, p90] = n === 0 ? [null, null] : (column(row, prefix, 'q') as [number, number]);
      evaluation = { value: median, numerator: null, denominator: null, sample_size: n, details: { p90 } };
      break;
    }
    case 'largest': {
      const n = numberAt(row, prefix, 'n');
      evaluation = { value: n === 0 ? null : numberAt(row, prefix, 'value'), numerator: null, denominator: null, sample_size: n, details: n === 0 ? {} : { worst: column(row, prefix, 'explain') } };
      break;
    }
    default: {
      const n = numberAt(row, prefix, 'n');
      const zeroWhenEmpty = m.kind === 'sum' || m.kind === 'count_distinct';
      evaluation = { value: n === 0 && !zeroWhenEmpty ? null : numberAt(row, prefix, 'value'), numerator: null, denominator: null, sample_size: n, details: {} };
    }
  }
  for (const key of Object.keys(kpi.details ?? {})) evaluation.details[key] = column(row, prefix, `detail_${key}`);
  if (evaluation.value === null) evaluation.details.null_reason = nullReason(kpi, evaluation.sample_size);
  return evaluation;
}

/**
 * The columns a breakdown lists for each row: whether it is in the numerator and the denominator,
 * its value in the aggregate, and a note ("not reported" for a row left out).
 */
export function rowColumns(kpi: SqlKpi): Sql {
  const m = kpi.measure;
  const notReported = (reported: Sql | undefined, note: Sql) => (reported ? sql`if(${truth(reported)}, ${note}, 'not reported')` : note);
  const note = kpi.note ?? raw("''");
  let inNumerator: Sql;
  let inDenominator: Sql;
  let value: Sql;
  let rowNote = note;
  let listed: Sql = raw('1');
  switch (m.kind) {
    case 'count':
      inNumerator = sql`${truth(m.reported)} AND ${number(m.count ?? raw('1'))} > 0`;
      inDenominator = raw('0');
      value = sql`if(${truth(m.reported)}, ${number(m.count ?? raw('1'))}, NULL)`;
      rowNote = notReported(m.reported, note);
      // A count lists what it counts, and what was left out.
      listed = sql`NOT ${truth(m.reported)} OR ${number(m.count ?? raw('1'))} > 0`;
      break;
    case 'share':
      inNumerator = sql`${truth(m.reported)} AND ${truth(m.numerator)}`;
      inDenominator = truth(m.reported);
      value = sql`if(${truth(m.reported)}, toFloat64(${truth(m.numerator)}), NULL)`;
      rowNote = notReported(m.reported, note);
      break;
    case 'ratio':
      inNumerator = sql`${truth(m.reported)} AND ${number(m.numerator)} > 0`;
      inDenominator = sql`${truth(m.reported)} AND ${number(m.denominator)} > 0`;
      value = sql`if(${truth(m.reported)}, ${number(kpi.rowValue ?? m.numerator)}, NULL)`;
      rowNote = notReported(m.reported, note);
      break;
    case 'largest':
      inNumerator = truth(m.where);
      inDenominator = raw('0');
      value = number(m.of);
      break;
    default:
      inNumerator = sql`isNotNull(${m.of})`;
      inDenominator = raw('0');
      value = number(m.of);
      rowNote = notReported(sql`isNotNull(${m.of})`, note);
  }
  return sql`toBool(${inNumerator}) AS in_numerator, toBool(${inDenominator}) AS in_denominator, ${kpi.rowValue && m.kind !== 'ratio' ? number(kpi.rowValue) : value} AS value, ${rowNote} AS note, toBool(${listed}) AS listed`;
}

export { emptyEvaluation };
