import { nextPeriodStart, periodStartOf, type ValueReader } from '@kpi/kpi';
import { kpiValues, type StoredKpiValue } from '@kpi/storage';

/** One stored KPI value as `kpi_values` holds it; `start` is the period start as ClickHouse text ('YYYY-MM-DD hh:mm:ss'). */
export interface ServedRow extends StoredKpiValue {
  granularity: string;
  tier: string;
}

interface Entry {
  row: StoredKpiValue;
  computedAt: number;
}

const seriesKey = (kpi: string, granularity: string, tier: string, team: string) => `${kpi}|${granularity}|${tier}|${team}`;

/** Tells replicas apart in scope versions: a reload replaces the copy with a new one. */
let replicas = 0;

/**
 * The KPI values of `kpi_values`, in memory, under the same rule: of two versions of a value the
 * one whose computation started later wins, whatever order they arrive in. So the copy comes out
 * the same from any interleaving of a load from ClickHouse and the updates jobs send, and every
 * process that applies the same updates serves the same values. Reads are lookups.
 */
export class ValueReplica implements ValueReader {
  /** (kpi, granularity, tier, team) -> period start -> value. */
  private readonly series = new Map<string, Map<string, Entry>>();
  /** Values of a KPI computed before this instant are gone (a deleted KPI, or one recomputed from scratch). */
  private readonly removedBefore = new Map<string, number>();
  private count = 0;
  private readonly id = ++replicas;
  /** Bumped by every change: answers derived from the values are valid while it stays the same. */
  version = 0;
  /** Bumped by every change but the values `apply` adds, which it counts per (granularity, team) scope. */
  private changesOfEveryScope = 0;
  private readonly changesOfScope = new Map<string, number>();

  /** Applies values computed at `computedAt` (ms); returns how many replaced what was there. */
  apply(rows: readonly ServedRow[], computedAt: number): number {
    let changed = 0;
    const scopes = new Set<string>();
    for (const row of rows) {
      if (computedAt < (this.removedBefore.get(row.kpi) ?? -Infinity)) continue;
      const key = seriesKey(row.kpi, row.granularity, row.tier, row.team);
      let periods = this.series.get(key);
      if (!periods) this.series.set(key, (periods = new Map()));
      const existing = periods.get(row.start);
      if (existing && existing.computedAt > computedAt) continue;
      if (!existing) this.count++;
      periods.set(row.start, { row: { kpi: row.kpi, team: row.team, start: row.start, value: row.value, numerator: row.numerator, denominator: row.denominator, sample_size: row.sample_size, details: row.details }, computedAt });
      scopes.add(`${row.granularity}|${row.team}`);
      changed++;
    }
    for (const scope of scopes) this.changesOfScope.set(scope, (this.changesOfScope.get(scope) ?? 0) + 1);
    if (changed > 0) this.version++;
    return changed;
  }

  /** Anything answers may derive from the values changed (the targets in force): every scope's version moves. */
  changed(): void {
    this.version++;
    this.changesOfEveryScope++;
  }

  /**
   * The version of one (granularity, team) scope's values, every KPI, tier and period: answers
   * derived from them alone (a scope's part of `/v1/metrics`) are valid while it stays the same.
   */
  scopeVersion(granularity: string, team: string): string {
    return `${this.id}|${this.changesOfEveryScope}|${this.changesOfScope.get(`${granularity}|${team}`) ?? 0}`;
  }

  /** Forgets a KPI's values computed before `before` (ms), and ignores any such value that arrives later. */
  remove(kpi: string, before: number): void {
    this.removedBefore.set(kpi, Math.max(before, this.removedBefore.get(kpi) ?? -Infinity));
    const prefix = `${kpi}|`;
    for (const [key, periods] of this.series) {
      if (!key.startsWith(prefix)) continue;
      for (const [start, entry] of periods) {
        if (entry.computedAt >= before) continue;
        periods.delete(start);
        this.count--;
      }
      if (periods.size === 0) this.series.delete(key);
    }
    this.changed();
  }

  /**
   * Takes a KPI's values as just loaded from ClickHouse (each with its computed_at), the load having
   * started at `loadedAt`: a value the load did not find and that was computed before it is gone
   * (deleted from ClickHouse); anything computed since stays, whichever is later wins.
   */
  replace(kpi: string, rows: readonly (ServedRow & { computed_at: number })[], loadedAt: number): void {
    const present = new Set(rows.map((row) => `${seriesKey(row.kpi, row.granularity, row.tier, row.team)}|${row.start}`));
    const prefix = `${kpi}|`;
    for (const [key, periods] of this.series) {
      if (!key.startsWith(prefix)) continue;
      for (const [start, entry] of periods) {
        if (entry.computedAt >= loadedAt || present.has(`${key}|${start}`)) continue;
        periods.delete(start);
        this.count--;
      }
      if (periods.size === 0) this.series.delete(key);
    }
    for (const row of rows) this.apply([row], row.computed_at);
    this.changed();
  }

  get size(): number {
    return this.count;
  }

  read(scope: Parameters<ValueReader['read']>[0]): StoredKpiValue[] {
    // The period starts in [from, to], looked up in each series: a read costs the periods it asks
    // for, not the length of the series (two years of days for a daily KPI).
    const starts: string[] = [];
    let start = periodStartOf(scope.granularity, scope.from);
    if (start < scope.from) start = nextPeriodStart(scope.granularity, start);
    for (; start <= scope.to; start = nextPeriodStart(scope.granularity, start)) starts.push(kpiValues.startKey(start));
    const rows: StoredKpiValue[] = [];
    for (const kpi of scope.kpis) {
      for (const team of scope.teams) {
        const periods = this.series.get(seriesKey(kpi, scope.granularity, scope.tier, team));
        if (!periods) continue;
        for (const key of starts) {
          const entry = periods.get(key);
          if (entry) rows.push(entry.row);
        }
      }
    }
    return rows;
  }
}
