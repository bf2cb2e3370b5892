import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contribution, Granularity } from '@kpi/api-contract';
import { makeEvent, type CloudEvent, type DataInput } from '@kpi/events';
import { eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';

// What real tools send (SPEC §3 and §5 "Facts a release does not report"): releases whose facts
// arrive later by release.updated, or never; pages without a degradation start; incidents resolved
// with no mitigation. Every expected number is worked out by hand from the SPEC.

const SOURCE = 'deploy-tool';
const deployed = (id: string, model: string, at: string, facts: Partial<DataInput<'release.deployed'>> = {}) =>
  makeEvent('release.deployed', { release_id: id, model_id: model, model_version: '1.0.0', team: 'delivery', tier: 1, environment: 'production', ...facts }, { source: SOURCE, id: `${id}-deployed`, time: at });
const updated = (id: string, at: string, facts: Omit<DataInput<'release.updated'>, 'release_id'>, n: number) =>
  makeEvent('release.updated', { release_id: id, ...facts }, { source: SOURCE, id: `${id}-updated-${n}`, time: at });
const docs = (model_card: boolean, runbook: boolean, readout: boolean) => ({ model_card, runbook, readout });

// March 2026, team delivery, tier 1, four models:
// rel-a: deployed with no facts; facts recorded later. Readiness: false at 03-04, true at 03-05 ->
//        true (latest time), although the 03-05 correction arrives first. reproducible false, docs complete.
// rel-b: a correction recorded *before* the deploy (03-01): reproducible true, docs without runbook.
//        The deploy (03-03) says reproducible false: the later time wins -> false. Readiness never reported.
// rel-c: never reports a fact.
// rel-d: every fact in the deploy: readiness false, reproducible true, docs complete, monitoring
//        enabled and alerting with 1 of 2 critical features monitored.
const releases: CloudEvent[] = [
  updated('rel-a', '2026-03-05T09:00:00Z', { readiness_first_pass: true, docs: docs(true, true, true), reproducible: false }, 2),
  deployed('rel-a', 'model-a', '2026-03-02T10:00:00Z'),
  updated('rel-a', '2026-03-04T09:00:00Z', { readiness_first_pass: false }, 1),
  updated('rel-b', '2026-03-01T09:00:00Z', { reproducible: true, docs: docs(true, false, true) }, 1),
  deployed('rel-b', 'model-b', '2026-03-03T10:00:00Z', { reproducible: false }),
  deployed('rel-c', 'model-c', '2026-03-10T10:00:00Z'),
  deployed('rel-d', 'model-d', '2026-03-11T10:00:00Z', {
    readiness_first_pass: false,
    reproducible: true,
    docs: docs(true, true, true),
    monitoring: { drift_enabled: true, drift_alerting: true, features: [{ name: 'f1', critical: true, drift_monitored: true }, { name: 'f2', critical: true, drift_monitored: false }] },
  }),
];

// April 2026 (ISO week of Monday 04-06), team pager, tier 1:
// P1: a page without started_at (never corrected): no TTD; mitigated 3 h after detection.
// P2: TTD 2 h; resolved 10 h after detection with no mitigation -> TTM 10 h (at the resolution).
// P3: TTD 4 h; resolved twice, the earliest 16 h after detection, no mitigation -> TTM 16 h.
// P4: TTD 1 h; mitigated 6 h after detection, resolved later -> TTM 6 h (the mitigation counts).
// P5: a page without started_at, corrected by incident.updated to 3 h before detection -> TTD 3 h; TTM 1 h.
const opened = (id: string, detected: string, started?: string) =>
  makeEvent('incident.opened', { incident_id: id, team: 'pager', tier: 1, severity: 'sev2', category: 'model', detected_at: detected, ...(started ? { started_at: started } : {}) }, { source: 'pagerduty', id: `${id}-opened`, time: detected });
const after = (id: string, type: 'incident.mitigated' | 'incident.resolved', at: string, n = 1) =>
  makeEvent(type, { incident_id: id }, { source: 'pagerduty', id: `${id}-${type}-${n}`, time: at });
const incidents: CloudEvent[] = [
  opened('p1', '2026-04-06T09:30:00Z'),
  after('p1', 'incident.mitigated', '2026-04-06T12:30:00Z'),
  opened('p2', '2026-04-07T08:00:00Z', '2026-04-07T06:00:00Z'),
  after('p2', 'incident.resolved', '2026-04-07T18:00:00Z'),
  after('p3', 'incident.resolved', '2026-04-09T04:00:00Z', 2),
  opened('p3', '2026-04-08T04:00:00Z', '2026-04-08T00:00:00Z'),
  after('p3', 'incident.resolved', '2026-04-08T20:00:00Z', 1),
  opened('p4', '2026-04-09T00:00:00Z', '2026-04-08T23:00:00Z'),
  after('p4', 'incident.mitigated', '2026-04-09T06:00:00Z'),
  after('p4', 'incident.resolved', '2026-04-09T09:00:00Z'),
  opened('p5', '2026-04-10T10:00:00Z'),
  makeEvent('incident.updated', { incident_id: 'p5', started_at: '2026-04-10T07:00:00Z' }, { source: 'pagerduty', id: 'p5-updated', time: '2026-04-12T10:00:00Z' }),
  after('p5', 'incident.mitigated', '2026-04-10T11:00:00Z'),
];

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.produce([...releases, ...incidents]);
  await eventually(async () => ((await value('time_to_mitigate_hours', 'month', '2026-04-01', 'pager')).sample_size === 5 ? true : undefined), 60_000, 'April TTM');
  await eventually(async () => ((await value('releases_delivered', 'month', '2026-03-01', 'delivery')).value === 4 ? true : undefined), 60_000, 'March releases');
  await pipeline.settle();
});
afterAll(() => pipeline?.stop());

const { value } = kpiReader(() => pipeline);
/** GET /v1/kpis/:id/breakdown through the typed client. */
const breakdown = (kpi: string, query: { granularity: Granularity; period_start: string; team: string }) => pipeline.client.read.get('/v1/kpis/:id/breakdown', { params: { id: kpi }, query });
const byEntity = (entities: Contribution[]) =>
  Object.fromEntries(entities.map(({ entity, in_numerator, in_denominator, note }) => [entity, { in_numerator, in_denominator, ...(note ? { note } : {}) }]));

describe('release facts that arrive later, or never', () => {
  it('counts every production release, and each fact KPI only over the releases that report the fact', async () => {
    for (const [granularity, start] of [['month', '2026-03-01'], ['quarter', '2026-01-01']] as const) {
      expect(await value('releases_delivered', granularity, start, 'delivery')).toMatchObject({ value: 4, sample_size: 4 });
      // Readiness reported by rel-a (true, the latest correction) and rel-d (false).
      expect(await value('readiness_first_pass_rate', granularity, start, 'delivery', '1')).toMatchObject({ value: 0.5, numerator: 1, denominator: 2, sample_size: 2, status: 'breached' });
      // Reproducible: rel-a false (update), rel-b false (the deploy is later than the update), rel-d true.
      expect(await value('reproducibility_rate', granularity, start, 'delivery')).toMatchObject({ value: 1 / 3, numerator: 1, denominator: 3, sample_size: 3 });
      // Docs: rel-a complete (update), rel-b no runbook (update before the deploy), rel-d complete.
      expect(await value('documentation_completeness', granularity, start, 'delivery')).toMatchObject({ value: 2 / 3, numerator: 2, denominator: 3, sample_size: 3 });
    }
    // Nobody reports an offline metric, calibration or slices: no value, and no slice regression counted.
    expect(await value('offline_win_rate', 'month', '2026-03-01', 'delivery')).toMatchObject({ value: null, denominator: 0, status: 'no_data' });
    expect(await value('calibration_ece', 'month', '2026-03-01', 'delivery')).toMatchObject({ value: null, sample_size: 0 });
    expect(await value('slice_regressions', 'month', '2026-03-01', 'delivery')).toMatchObject({ value: 0, sample_size: 0 });
  });

  it('a breakdown lists the releases that did not report the fact as "not reported"', async () => {
    const readiness = await breakdown('readiness_first_pass_rate', { granularity: 'month', period_start: '2026-03-01', team: 'delivery' });
    expect(byEntity(readiness.entities)).toEqual({
      'rel-a': { in_numerator: true, in_denominator: true },
      'rel-b': { in_numerator: false, in_denominator: false, note: 'not reported' },
      'rel-c': { in_numerator: false, in_denominator: false, note: 'not reported' },
      'rel-d': { in_numerator: false, in_denominator: true },
    });
    const reproducible = await breakdown('reproducibility_rate', { granularity: 'month', period_start: '2026-03-01', team: 'delivery' });
    expect(byEntity(reproducible.entities)['rel-c']).toEqual({ in_numerator: false, in_denominator: false, note: 'not reported' });
    expect(reproducible.entities.filter((entity) => entity.in_denominator).map((entity) => entity.entity).sort()).toEqual(['rel-a', 'rel-b', 'rel-d']);
  });

  it('a live model whose release reports no monitoring is not covered and adds no features', async () => {
    // Live at the end of March: the four models. Only rel-d reports monitoring (enabled and alerting).
    expect(await value('drift_model_coverage', 'month', '2026-03-01', 'delivery', '1')).toMatchObject({ value: 0.25, numerator: 1, denominator: 4, sample_size: 4, status: 'breached' });
    // Features: rel-d's only, 1 of 2 critical monitored.
    expect(await value('drift_feature_coverage', 'month', '2026-03-01', 'delivery')).toMatchObject({ value: 0.5, numerator: 1, denominator: 2, sample_size: 4 });
    const live = await pipeline.get('/v1/releases/live?team=delivery');
    expect(live.status).toBe(200);
    const byModel = Object.fromEntries((live.body.releases as { model_id: string; drift_enabled: boolean | null }[]).map((release) => [release.model_id, release.drift_enabled]));
    expect(byModel).toEqual({ 'model-a': null, 'model-b': null, 'model-c': null, 'model-d': true });
  });
});

describe('incidents from pagers: no degradation start, resolved with no mitigation', () => {
  it('time_to_detect_hours is over the incidents that report both started_at and detected_at', async () => {
    // P2 2 h, P3 4 h, P4 1 h, P5 3 h (corrected start); P1 left out. Median 2.5; p90: 3 + 0.7 x 1 = 3.7.
    for (const [granularity, start] of [['week', '2026-04-06'], ['month', '2026-04-01'], ['quarter', '2026-04-01']] as const) {
      const ttd = await value('time_to_detect_hours', granularity, start, 'pager', '1');
      expect(ttd).toMatchObject({ value: 2.5, sample_size: 4, target: 24, status: 'met' });
      expect(ttd.details.p90).toBeCloseTo(3.7, 9);
    }
    const explained = await breakdown('time_to_detect_hours', { granularity: 'month', period_start: '2026-04-01', team: 'pager' });
    expect(byEntity(explained.entities).p1).toEqual({ in_numerator: false, in_denominator: false, note: 'not reported' });
    expect(explained.entities.filter((entity) => entity.value !== null).map((entity) => [entity.entity, entity.value]).sort()).toEqual([['p2', 2], ['p3', 4], ['p4', 1], ['p5', 3]]);
  });

  it('time_to_mitigate_hours takes the earliest resolution of an incident never mitigated', async () => {
    // P1 3 h, P2 10 h, P3 16 h, P4 6 h, P5 1 h: median 6; p90: 10 + 0.6 x 6 = 13.6.
    for (const [granularity, start] of [['week', '2026-04-06'], ['month', '2026-04-01']] as const) {
      const ttm = await value('time_to_mitigate_hours', granularity, start, 'pager', '1');
      expect(ttm).toMatchObject({ value: 6, sample_size: 5, target: 72, status: 'met' });
      expect(ttm.details.p90).toBeCloseTo(13.6, 9);
    }
    const explained = await breakdown('time_to_mitigate_hours', { granularity: 'month', period_start: '2026-04-01', team: 'pager' });
    expect(explained.entities.map((entity) => [entity.entity, entity.value]).sort()).toEqual([['p1', 3], ['p2', 10], ['p3', 16], ['p4', 6], ['p5', 1]]);
  });

  it('the incident list shows no time to detect where the start is unknown, and resolved incidents as closed', async () => {
    const response = await pipeline.get('/v1/incidents?team=pager&state=all');
    expect(response.status).toBe(200);
    const rows = Object.fromEntries((response.body.incidents as { incident_id: string; ttd_hours: number | null; ttm_hours: number | null }[]).map((row) => [row.incident_id, [row.ttd_hours, row.ttm_hours]]));
    expect(rows).toEqual({ p1: [null, 3], p2: [2, 10], p3: [4, 16], p4: [1, 6], p5: [3, 1] });
    const open = await pipeline.get('/v1/incidents?team=pager&state=open');
    expect(open.body.incidents).toEqual([]);
  });
});
