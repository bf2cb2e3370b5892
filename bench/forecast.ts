/**
 * What the forecasts (SPEC 5c) add to a scorecard read (issue 23: at most 1 ms). Run by hand:
 * `node --import tsx bench/forecast.ts`. Serves the whole catalog from memory (ValueReplica, as the
 * API does) with eight quarters of values, and times readValuesOf for GET /v1/scorecard?trend=8
 * with the clock inside the scored quarter (every count and share with a target gets its
 * forecast) and just after it (none), with small counts and with large ones, in CPU time.
 */
import { ALL_TEAMS, CATALOG, forecastModelOf, lastPeriods, readValuesOf } from '@kpi/kpi';
import { ValueReplica } from '@kpi/serving';
import { kpiValues } from '@kpi/storage';
import { report } from './support.ts';

const READS = 2_000;
const quarter = lastPeriods('quarter', 8, new Date('2026-11-15T00:00:00Z'));
const scored = quarter.at(-1)!;
const inside = new Date(scored.start.getTime() + 0.45 * (scored.end.getTime() - scored.start.getTime()));
const after = scored.end;

function replicaWith(size: number): ValueReplica {
  const replica = new ValueReplica();
  const rows = CATALOG.flatMap((kpi) =>
    quarter.map((period, index) => {
      const model = forecastModelOf(kpi);
      const n = size + index;
      const [value, numerator, denominator] = model === 'share' ? [0.9, Math.round(0.9 * n), n] : [n, null, null];
      return { kpi: kpi.id, granularity: 'quarter', tier: 'all', team: ALL_TEAMS, start: kpiValues.startKey(period.start), value, numerator, denominator, sample_size: n, details: {} };
    }),
  );
  replica.apply(rows, Date.now());
  return replica;
}

/** Mean CPU milliseconds of one scorecard read at `now` (CPU time: steadier than wall time on a shared machine). */
async function scorecardRead(replica: ValueReplica, now: Date): Promise<number> {
  const read = () => readValuesOf(replica, CATALOG, { granularity: 'quarter', team: ALL_TEAMS, tier: 'all' }, quarter, [], now);
  for (let i = 0; i < 200; i++) await read();
  const started = process.cpuUsage();
  for (let i = 0; i < READS; i++) await read();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000 / READS;
}

const rows: Record<string, string> = {};
for (const size of [5, 200, 20_000]) {
  const replica = replicaWith(size);
  const forecasts = (await readValuesOf(replica, CATALOG, { granularity: 'quarter', team: ALL_TEAMS, tier: 'all' }, quarter, [], inside)).values();
  const count = [...forecasts].filter((series) => series.at(-1)!.forecast !== null).length;
  const without = await scorecardRead(replica, after);
  const withForecasts = await scorecardRead(replica, inside);
  rows[`counts of ~${size.toLocaleString('en')}: scorecard read, no forecast`] = `${without.toFixed(3)} ms`;
  rows[`counts of ~${size.toLocaleString('en')}: scorecard read, ${count} forecasts`] = `${withForecasts.toFixed(3)} ms (+${(withForecasts - without).toFixed(3)} ms)`;
}
report(`Forecast cost on a scorecard read (${CATALOG.length} KPIs, 8 quarters, CPU time, mean of ${READS.toLocaleString('en')} reads)`, rows);
