import { z } from 'zod';
import type { Storage } from '../client.ts';
import { tsvField, tsvNumber } from '../tsv.ts';

/**
 * `kpi_values` (migration 002): one row per (KPI, granularity, period, team, tier), the value as
 * last computed; `computed_at` is when that computation started reading, so of two versions the
 * later-started wins (reads use FINAL). Targets and statuses are applied when read.
 */
export interface KpiValueRow {
  kpi: string;
  granularity: string;
  period: { start: Date };
  team: string;
  tier: string;
  evaluation: { value: number | null; numerator: number | null; denominator: number | null; sample_size: number; details: Record<string, unknown> };
}

const COLUMNS = ['kpi', 'granularity', 'period_start', 'team', 'tier', 'value', 'numerator', 'denominator', 'sample_size', 'details', 'computed_at'] as const;

const storedRow = z.object({
  kpi: z.string(),
  team: z.string(),
  start: z.string(),
  value: z.number().nullable(),
  numerator: z.number().nullable(),
  denominator: z.number().nullable(),
  sample_size: z.coerce.number(),
  details: z.string().transform((text) => JSON.parse(text) as Record<string, unknown>),
});
export type StoredKpiValue = z.infer<typeof storedRow>;

/** ClickHouse DateTime text of an instant, to the second. */
const chSecond = (instant: Date) => instant.toISOString().slice(0, 19).replace('T', ' ');

export const kpiValues = {
  /** Writes values as TabSeparated lines, in chunks. */
  async insert(storage: Storage, rows: readonly KpiValueRow[], computedAt: Date): Promise<void> {
    const stamp = computedAt.toISOString().replace('T', ' ').replace('Z', '');
    // Rows come period by period, the scopes of a period sharing its Date: its text is made once.
    let period: Date | undefined;
    let periodText = '';
    for (let start = 0; start < rows.length; start += 50_000) {
      const lines = rows.slice(start, start + 50_000).map(({ kpi, granularity, period: { start: periodStart }, team, tier, evaluation: value }) => {
        if (periodStart !== period) [period, periodText] = [periodStart, chSecond(periodStart)];
        return `${tsvField(kpi)}\t${granularity}\t${periodText}\t${tsvField(team)}\t${tier}\t${tsvNumber(value.value)}\t${tsvNumber(value.numerator)}\t${tsvNumber(
          value.denominator,
        )}\t${value.sample_size}\t${tsvField(JSON.stringify(value.details))}\t${stamp}\n`;
      });
      await storage.insertTabSeparated('kpi_values', COLUMNS, lines.join(''));
    }
  },

  /**
   * The stored values of some KPIs, one granularity and tier, some teams, for periods starting in
   * [from, to]; `start` is the period start as ClickHouse text ('YYYY-MM-DD hh:mm:ss'). One query.
   */
  async read(storage: Storage, scope: { kpis: readonly string[]; granularity: string; tier: string; teams: readonly string[]; from: Date; to: Date }): Promise<StoredKpiValue[]> {
    const rows = await storage.query(
      `SELECT kpi, team, toString(period_start) AS start, value, numerator, denominator, sample_size, details
       FROM {db:Identifier}.kpi_values FINAL
       WHERE kpi IN {kpis:Array(String)} AND granularity = {granularity:String} AND tier = {tier:String} AND team IN {teams:Array(String)}
         AND period_start >= {from:DateTime('UTC')} AND period_start <= {to:DateTime('UTC')}`,
      { kpis: scope.kpis, granularity: scope.granularity, tier: scope.tier, teams: scope.teams, from: chSecond(scope.from), to: chSecond(scope.to) },
    );
    return z.array(storedRow).parse(rows);
  },

  /** The KPIs that have stored values. */
  async kpis(storage: Storage): Promise<string[]> {
    const rows = await storage.query<{ kpi: string }>('SELECT DISTINCT kpi FROM {db:Identifier}.kpi_values ORDER BY kpi');
    return rows.map((row) => row.kpi);
  },

  /** Every stored value of one KPI, with when it was computed (ms): what a served copy starts from. */
  async allOf(storage: Storage, kpi: string): Promise<(StoredKpiValue & { granularity: string; tier: string; computed_at: number })[]> {
    const rows = await storage.query(
      `SELECT kpi, granularity, tier, team, toString(period_start) AS start, value, numerator, denominator, sample_size, details, toUnixTimestamp64Milli(computed_at) AS computed_at
       FROM {db:Identifier}.kpi_values FINAL WHERE kpi = {kpi:String}`,
      { kpi },
    );
    return z.array(storedRow.extend({ granularity: z.string(), tier: z.string(), computed_at: z.coerce.number() })).parse(rows);
  },

  /** Deletes a KPI's values, or those computed before `before` (older than a recompute of its whole history). */
  async remove(storage: Storage, kpi: string, before?: Date): Promise<void> {
    await storage.command(
      'DELETE FROM {db:Identifier}.kpi_values WHERE kpi = {kpi:String} AND ({before:Nullable(DateTime64(6, \'UTC\'))} IS NULL OR computed_at < {before:Nullable(DateTime64(6, \'UTC\'))})',
      { kpi, before: before ? before.toISOString().replace('T', ' ').replace('Z', '') : null },
    );
  },

  /** ClickHouse's text of a period start, the key of `read`'s rows. */
  startKey: chSecond,
};
