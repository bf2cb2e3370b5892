import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { rebuildAll } from '@kpi/worker';
import { eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';

// Incidents of 2026-Q1, hand-built; every expected number below is worked out from SPEC section 5.
const opened = (id: string, at: string, data: { team: string; tier: 1 | 2 | 3; severity: 'sev0' | 'sev1' | 'sev2' | 'sev3'; category: 'model' | 'data_pipeline' | 'data_quality' | 'infrastructure' | 'other'; started_at: string; detected_at: string }) =>
  makeEvent('incident.opened', { incident_id: id, ...data }, { source: 'pagerduty', id: `${id}-opened`, time: at });
const mitigated = (id: string, at: string, n = 1) => makeEvent('incident.mitigated', { incident_id: id }, { source: 'pagerduty', id: `${id}-mitigated-${n}`, time: at });
const updated = (id: string, at: string, data: Record<string, unknown>, n: number) => makeEvent('incident.updated', { incident_id: id, ...data }, { source: 'pagerduty', id: `${id}-updated-${n}`, time: at });

const inc1 = opened('inc-1', '2026-01-05T10:00:00Z', { team: 'ranking', tier: 1, severity: 'sev0', category: 'model', started_at: '2026-01-05T08:00:00Z', detected_at: '2026-01-05T09:00:00Z' });
const inc2 = opened('inc-2', '2026-01-07T12:00:00Z', { team: 'ranking', tier: 2, severity: 'sev2', category: 'data_pipeline', started_at: '2026-01-06T12:00:00Z', detected_at: '2026-01-07T12:00:00Z' });
const inc3 = opened('inc-3', '2026-01-20T10:00:00Z', { team: 'search', tier: 1, severity: 'sev1', category: 'infrastructure', started_at: '2026-01-20T06:00:00+00:00', detected_at: '2026-01-20T12:00:00+02:00' });
const inc4 = opened('inc-4', '2026-02-10T00:00:00Z', { team: 'search', tier: 1, severity: 'sev2', category: 'data_quality', started_at: '2026-02-09T00:00:00Z', detected_at: '2026-02-10T00:00:00Z' });

const events: CloudEvent[] = [
  // inc-2's mitigation arrives before its opening (out of order).
  mitigated('inc-2', '2026-01-08T00:00:00Z'),
  inc1,
  inc1, // a duplicate copy
  mitigated('inc-1', '2026-01-05T15:00:00Z'),
  inc2,
  inc3,
  // Corrections: the latest `time` wins per field, whatever the arrival order.
  updated('inc-3', '2026-01-21T09:00:00Z', { severity: 'sev0', tier: 2 }, 2),
  updated('inc-3', '2026-01-20T11:00:00Z', { severity: 'sev3', category: 'model' }, 1),
  mitigated('inc-3', '2026-01-22T10:00:00Z', 2),
  mitigated('inc-3', '2026-01-21T10:00:00Z', 1), // the earliest mitigation counts
  inc4,
  // A mitigation of an incident that never opened: counted nowhere, shown in diagnostics.
  mitigated('inc-99', '2026-01-09T00:00:00Z'),
];

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.produce(events);
  await eventually(async () => ((await value('time_to_mitigate_hours', 'month', '2026-01-01', 'all')).value === 12 ? true : undefined), 60_000, 'January TTM');
  await pipeline.settle();
});
afterAll(() => pipeline?.stop());

const { values, value } = kpiReader(() => pipeline);

describe('incident KPIs through Kafka -> ingest -> ClickHouse -> worker -> API', () => {
  it('sev0_incidents counts the latest severity, by opened time', async () => {
    // January: inc-1 (sev0), inc-2 (sev2), inc-3 (sev1 corrected to sev0 at the latest time) -> 2 of 3.
    expect(await value('sev0_incidents', 'month', '2026-01-01')).toMatchObject({ value: 2, sample_size: 3, target: 0, status: 'breached' });
    expect(await value('sev0_incidents', 'month', '2026-02-01')).toMatchObject({ value: 0, sample_size: 1, target: 0, status: 'met' });
    expect(await value('sev0_incidents', 'month', '2026-01-01', 'ranking')).toMatchObject({ value: 1, sample_size: 2 });
    // Tier: inc-3's tier was corrected to 2, so tier 1 in January has inc-1 only.
    expect(await value('sev0_incidents', 'month', '2026-01-01', 'all', '1')).toMatchObject({ value: 1, sample_size: 1 });
    expect(await value('sev0_incidents', 'month', '2026-01-01', 'all', '2')).toMatchObject({ value: 1, sample_size: 2 });
    // ISO weeks: Monday 2026-01-05 holds inc-1 and inc-2; 2026-01-19 holds inc-3.
    expect(await value('sev0_incidents', 'week', '2026-01-05')).toMatchObject({ value: 1, sample_size: 2 });
    expect(await value('sev0_incidents', 'week', '2026-01-19')).toMatchObject({ value: 1, sample_size: 1 });
    expect(await value('sev0_incidents', 'quarter', '2026-01-01')).toMatchObject({ value: 2, sample_size: 4 });
  });

  it('model and data-quality incident counts are judged against the previous period', async () => {
    // inc-3 opened as infrastructure; its only category correction (model) is later, so it wins.
    // December 2025: 0 (previous 0 -> met); January: model (inc-1), data_pipeline (inc-2), model (inc-3) = 3
    // against December's 0 -> breached; February: 0 against 3 -> met.
    const months = await values('model_incidents', 'month', '2025-12-01', '2026-03-01');
    expect(months.map((v) => [v.value, v.target, v.status])).toEqual([
      [0, 0, 'met'],
      [3, 0, 'breached'],
      [0, 3, 'met'],
    ]);
    // data_quality or data_pipeline: inc-2 in January, inc-4 in February.
    expect((await values('data_quality_incidents', 'month', '2026-01-01', '2026-03-01')).map((v) => v.value)).toEqual([1, 1]);
    expect(await value('data_quality_incidents', 'quarter', '2026-01-01')).toMatchObject({ value: 2, target: 0, status: 'breached' });
    expect(await value('data_quality_incidents', 'quarter', '2026-01-01', 'search')).toMatchObject({ value: 1 });
  });

  it('time_to_detect_hours is the median of detected - started, p90 in details, tier-1 target', async () => {
    // TTD: inc-1 1 h, inc-2 24 h, inc-3 (06:00Z -> 12:00+02:00 = 10:00Z) 4 h, inc-4 24 h.
    // January [1, 4, 24]: median 4, p90 = 4 + 0.8 * (24 - 4) = 20. No target outside tier 1.
    const january = await value('time_to_detect_hours', 'month', '2026-01-01');
    expect(january).toMatchObject({ value: 4, sample_size: 3, numerator: null, denominator: null, target: null, status: 'no_target' });
    expect(january.details.p90).toBeCloseTo(20, 9);
    expect(await value('time_to_detect_hours', 'month', '2026-01-01', 'all', '1')).toMatchObject({ value: 1, sample_size: 1, target: 24, status: 'met' });
    expect(await value('time_to_detect_hours', 'month', '2026-01-01', 'ranking')).toMatchObject({ value: 12.5, sample_size: 2 });
    // Quarter [1, 4, 24, 24]: median 14. Tier 1: inc-1 (1 h), inc-4 (24 h) -> 12.5, met.
    expect(await value('time_to_detect_hours', 'quarter', '2026-01-01')).toMatchObject({ value: 14, sample_size: 4 });
    expect(await value('time_to_detect_hours', 'quarter', '2026-01-01', 'all', '1')).toMatchObject({ value: 12.5, target: 24, status: 'met' });
    expect(await value('time_to_detect_hours', 'week', '2026-01-05', 'all', '1')).toMatchObject({ value: 1, status: 'met' });
    expect(await value('time_to_detect_hours', 'month', '2026-03-01')).toMatchObject({ value: null, sample_size: 0, status: 'no_data' });
  });

  it('time_to_mitigate_hours uses the earliest mitigation, by mitigation time, whatever the arrival order', async () => {
    // inc-1 15:00 - 09:00 = 6 h; inc-2 (mitigated before it opened) 01-08 00:00 - 01-07 12:00 = 12 h;
    // inc-3 earliest mitigation 01-21 10:00 - 01-20 10:00 = 24 h. inc-4 never mitigated. Median 12.
    expect(await value('time_to_mitigate_hours', 'month', '2026-01-01')).toMatchObject({ value: 12, sample_size: 3, status: 'no_target' });
    expect(await value('time_to_mitigate_hours', 'month', '2026-01-01', 'all', '1')).toMatchObject({ value: 6, sample_size: 1, target: 72, status: 'met' });
    expect(await value('time_to_mitigate_hours', 'month', '2026-01-01', 'search')).toMatchObject({ value: 24, sample_size: 1 });
    expect(await value('time_to_mitigate_hours', 'week', '2026-01-05')).toMatchObject({ value: 9, sample_size: 2 });
    // Still open past the 72 h target: inc-4 (detected 02-10, never mitigated) at the end of February,
    // 19 days = 456 h after detection. February has no mitigation, so no value.
    const february = await value('time_to_mitigate_hours', 'month', '2026-02-01');
    expect(february).toMatchObject({ value: null, status: 'no_data' });
    expect(february.details).toMatchObject({ open_past_target: 1, open_past_target_incidents: [{ incident_id: 'inc-4', team: 'search', tier: 1, hours_open: 456 }] });
    expect((await value('time_to_mitigate_hours', 'month', '2026-01-01')).details.open_past_target).toBe(0);
  });

  it('a breakdown lists exactly the incidents behind a value, and the mitigation waiting for its incident', async () => {
    const response = await pipeline.get('/v1/kpis/sev0_incidents/breakdown?granularity=month&period_start=2026-01-01&team=all');
    expect(response.status).toBe(200);
    expect(response.body.value).toBe(2);
    expect(response.body.entities.map((e: { entity: string }) => e.entity).sort()).toEqual(['inc-1', 'inc-3']);
    expect(response.body.diagnostics.waiting_for_defining_event.entities).toEqual([{ entity_id: 'inc-99', types: ['incident.mitigated'] }]);
    const ttm = await pipeline.get('/v1/kpis/time_to_mitigate_hours/breakdown?granularity=month&period_start=2026-01-01');
    expect(Object.fromEntries(ttm.body.entities.map((e) => [e.entity, e.value]))).toEqual({ 'inc-1': 6, 'inc-2': 12, 'inc-3': 24 });
    expect((await pipeline.get('/v1/kpis/sev0_incidents/breakdown?granularity=month&period_start=2026-01-02')).status).toBe(400);
  });

  it('a late event for an old period updates it within seconds, recomputing only the affected periods', async () => {
    const queue = pipeline.runtime.queues.queue('kpiRecompute');
    const before = Date.now();
    const late = opened('inc-5', '2026-01-14T10:00:00Z', { team: 'ranking', tier: 1, severity: 'sev0', category: 'other', started_at: '2026-01-14T09:00:00Z', detected_at: '2026-01-14T09:30:00Z' });
    await pipeline.produce([late]);
    await eventually(async () => ((await value('sev0_incidents', 'month', '2026-01-01')).value === 3 ? true : undefined), 30_000, 'January sev0 = 3');
    await pipeline.settle();
    const jobs = (await queue.getJobs(['completed'], 0, -1)).filter((job) => job.timestamp >= before);
    const recomputed: string[] = jobs.flatMap((job) => job.returnvalue.recomputed);
    // Five incident KPIs x four granularities (the periods of 2026-01-14) x the team's and the organisation's
    // scope, each recomputed once, and nothing else; except that an incident still open changes the
    // "open past target" details of time_to_mitigate_hours in every period since, up to the current one.
    const periods = ['week|2026-01-12T00:00:00.000Z', 'month|2026-01-01T00:00:00.000Z', 'quarter|2026-01-01T00:00:00.000Z', 'year|2026-01-01T00:00:00.000Z'];
    const kpis = ['sev0_incidents', 'model_incidents', 'data_quality_incidents', 'time_to_detect_hours', 'time_to_mitigate_hours'];
    const now = Date.now();
    const since = (granularity: string, first: Date, next: (d: Date) => Date) => {
      const starts: string[] = [];
      for (let d = first; d.getTime() <= now; d = next(d)) starts.push(`${granularity}|${d.toISOString()}`);
      return starts;
    };
    const openSince = [
      ...since('week', new Date('2026-01-12T00:00:00Z'), (d) => new Date(d.getTime() + 7 * 86_400_000)),
      ...since('month', new Date('2026-01-01T00:00:00Z'), (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))),
      ...since('quarter', new Date('2026-01-01T00:00:00Z'), (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3, 1))),
      ...since('year', new Date('2026-01-01T00:00:00Z'), (d) => new Date(Date.UTC(d.getUTCFullYear() + 1, 0, 1))),
    ];
    const expected = kpis.flatMap((kpi) => (kpi === 'time_to_mitigate_hours' ? openSince : periods).flatMap((period) => [`${kpi}|${period}|ranking`, `${kpi}|${period}|*`]));
    expect(recomputed.sort()).toEqual(expected.sort());
    expect(jobs.length).toBeLessThanOrEqual(kpis.length * 2);
    expect(await value('time_to_detect_hours', 'month', '2026-01-01', 'all', '1')).toMatchObject({ value: 0.75, sample_size: 2 });
  });
});

describe('full rebuild', () => {
  it('recomputes from the raw events exactly what the incremental recomputes stored', async () => {
    const snapshot = async () =>
      Promise.all(
        ['sev0_incidents', 'model_incidents', 'time_to_detect_hours', 'time_to_mitigate_hours'].flatMap((kpi) =>
          (['week', 'month', 'quarter'] as const).flatMap((granularity) =>
            ['all', 'ranking', 'search'].map(async (team) => [kpi, granularity, team, await values(kpi, granularity, '2025-12-01', '2026-04-01', team)]),
          ),
        ),
      );
    const before = await snapshot();
    await pipeline.runtime.storage.command('TRUNCATE TABLE {db:Identifier}.kpi_values');
    // Values deleted behind the pipeline's back: the served copy follows once it reloads.
    await pipeline.runtime.serving.reload();
    expect((await value('sev0_incidents', 'month', '2026-01-01')).value).toBe(0);
    expect(await rebuildAll(pipeline.runtime)).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(before);
  });
});
