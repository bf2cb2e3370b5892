import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, sampleData } from '@kpi/events';
import { eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';

let pipeline: TestPipeline;
const release = (id: string, model: string, at: string, monitored: boolean) =>
  makeEvent(
    'release.deployed',
    {
      ...sampleData['release.deployed'],
      release_id: id,
      model_id: model,
      team: 'search',
      monitoring: {
        drift_enabled: true,
        drift_alerting: monitored,
        features: [
          { name: 'query_len', critical: true, drift_monitored: true },
          { name: 'geo', critical: true, drift_monitored: monitored },
          { name: 'hour', critical: false, drift_monitored: false },
        ],
      },
    },
    { id, time: at },
  );

beforeAll(async () => {
  pipeline = await startPipeline({ roles: ['ingest'] });
  await pipeline.produce([
    makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: 'open-1', started_at: '2026-11-01T00:00:00Z', detected_at: '2026-11-01T06:00:00Z' }, { id: 'o1', time: '2026-11-01T07:00:00Z' }),
    makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: 'done-1', started_at: '2026-10-01T00:00:00Z', detected_at: '2026-10-01T02:00:00Z' }, { id: 'd1', time: '2026-10-01T03:00:00Z' }),
    makeEvent('incident.mitigated', { incident_id: 'done-1' }, { id: 'd2', time: '2026-10-01T05:00:00Z' }),
    makeEvent('experiment.started', { ...sampleData['experiment.started'], experiment_id: 'exp-srm' }, { id: 'x1', time: '2026-10-01T00:00:00Z' }),
    makeEvent(
      'experiment.readout',
      { experiment_id: 'exp-srm', primary: { metric: 'ctr', control: { n: 1000, mean: 0.41, variance: 15.21 }, treatment: { n: 1200, mean: 0.7, variance: 38.44 } } },
      { id: 'x2', time: '2026-10-20T00:00:00Z' },
    ),
    release('r1', 'ranker', '2026-09-01T00:00:00Z', true),
    release('r2', 'ranker', '2026-10-01T00:00:00Z', false),
    makeEvent('release.rolled_back', { release_id: 'r2', model_id: 'ranker', team: 'search' }, { id: 'rb2', time: '2026-10-02T00:00:00Z' }),
    release('r3', 'reranker', '2026-10-05T00:00:00Z', false),
  ]);
  await eventually(async () => ((await pipeline.get('/v1/releases/live')).body.releases.length === 2 ? true : undefined), 30_000, 'two live releases');
});
afterAll(() => pipeline?.stop());

describe('operational views', () => {
  it('lists open incidents with TTD and how long they have been open', async () => {
    const open = (await pipeline.get('/v1/incidents?state=open')).body.incidents;
    expect(open.map((incident: { incident_id: string }) => incident.incident_id)).toEqual(['open-1']);
    expect(open[0]).toMatchObject({ ttd_hours: 6, ttm_hours: null, team: 'search' });
    expect(open[0]!.open_hours).toBeGreaterThan(24 * 20);
    const all = (await pipeline.get('/v1/incidents?state=all')).body.incidents;
    expect(all.find((incident: { incident_id: string }) => incident.incident_id === 'done-1')).toMatchObject({ ttd_hours: 2, ttm_hours: 3, open_hours: null });
  });

  it('lists experiments with the primary lift, its CI and SRM', async () => {
    const experiment = (await pipeline.get('/v1/experiments')).body.experiments[0]!;
    // SPEC worked example: L = (0.70 - 0.41) / 0.41; SRM of (1000, 1200) at 0.5/0.5 fails.
    expect(experiment.lift).toBeCloseTo(0.707317, 5);
    expect(experiment.srm!.failed).toBe(true);
    expect(experiment.srm!.p_value).toBeCloseTo(2.00787e-5, 9);
    expect(experiment.ci_low).toBeLessThan(experiment.lift!);
  });

  it('lists the live release of each model with its drift gaps (a rollback hands back to the previous release)', async () => {
    const releases = (await pipeline.get('/v1/releases/live?team=search')).body.releases;
    expect(releases.map((r: { model_id: string; release_id: string }) => [r.model_id, r.release_id])).toEqual([
      ['ranker', 'r1'],
      ['reranker', 'r3'],
    ]);
    expect(releases[1]).toMatchObject({ critical_features: 2, monitored_critical_features: 1, unmonitored_critical_features: ['geo'], drift_alerting: false });
    expect((await pipeline.get('/v1/incidents?limit=0')).status).toBe(400);
  });
});
