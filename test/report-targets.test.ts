import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import type { Report } from '@kpi/reports';
import { eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';

// A team's own time-to-mitigate target reaches its quarterly report as it reaches /v1/scorecard:
// the KPI table, the tier-1 incident figures, the list of incidents open past the target and the
// narrative, in JSON and HTML. Two teams with the same incidents in 2026-Q1; only ranking lowers
// its target from the catalog's 72 h to 48 h.
//   - a tier-1 incident detected 2026-02-10T00:00Z, mitigated 2026-02-12T02:00Z: TTM 50 h
//     (met against 72 h, breached against 48 h);
//   - a tier-1 incident detected 2026-03-29T12:00Z, never mitigated: open 60 h at the quarter end
//     (2026-04-01T00:00Z), past 48 h but not past 72 h.

const QUARTER = '2026-Q1';
let pipeline: TestPipeline;

const incidents = (team: string): CloudEvent[] => {
  const opened = (id: string, detected: string, time: string) =>
    makeEvent('incident.opened', { incident_id: id, team, tier: 1, severity: 'sev1', category: 'model', detected_at: detected }, { source: 'pagerduty', id: `${id}-opened`, time });
  return [
    opened(`${team}-slow`, '2026-02-10T00:00:00Z', '2026-02-10T01:00:00Z'),
    makeEvent('incident.mitigated', { incident_id: `${team}-slow` }, { source: 'pagerduty', id: `${team}-slow-mitigated`, time: '2026-02-12T02:00:00Z' }),
    opened(`${team}-open`, '2026-03-29T12:00:00Z', '2026-03-29T13:00:00Z'),
  ];
};

beforeAll(async () => {
  pipeline = await startPipeline({ env: { REPORT_CHROMIUM: '/nonexistent/chromium' } });
  await pipeline.produce([...incidents('ranking'), ...incidents('search')]);
  await eventually(async () => {
    const { values } = await pipeline.client.read.get('/v1/kpis/:id/values', { params: { id: 'time_to_mitigate_hours' }, query: { granularity: 'quarter', from: '2026-01-01', to: '2026-04-01', team: 'search', tier: '1' } });
    return values[0]?.value === 50 ? true : undefined;
  }, 60_000, 'the TTM of search in 2026-Q1');
  await pipeline.client.admin.put('/v1/targets/:kpi/:team', { params: { kpi: 'time_to_mitigate_hours', team: 'ranking' }, body: { op: '<=', value: 48 } });
});
afterAll(() => pipeline?.stop());

async function report(team: string): Promise<{ json: Report; html: string }> {
  const { id } = await pipeline.client.admin.post('/v1/reports', { body: { quarter: QUARTER, team } });
  await eventually(async () => ((await pipeline.client.read.get('/v1/reports/:id', { params: { id } })).status === 'ready' ? true : undefined), 90_000, `report ${id}`);
  const file = (format: 'json' | 'html') => pipeline.client.read.response('GET', '/v1/reports/:id/:format', { params: { id, format } }).then((response) => response.text());
  return { json: JSON.parse(await file('json')) as Report, html: await file('html') };
}

describe("a team's target override in its quarterly report", () => {
  it('is the target of the KPI table, of the tier-1 figures and of the open incidents, in JSON and HTML, as on the scorecard', { timeout: 240_000 }, async () => {
    const scorecard = await pipeline.client.read.get('/v1/scorecard', { query: { quarter: QUARTER, team: 'ranking' } });
    expect(scorecard.kpis.find((kpi) => kpi.id === 'time_to_mitigate_hours')).toMatchObject({ value: 50, target: 48, status: 'breached' });

    const { json, html } = await report('ranking');
    expect(json.kpis.find((kpi) => kpi.id === 'time_to_mitigate_hours')).toMatchObject({ value: 50, target: 48, status: 'breached' });
    expect(json.incidents.ttm.tier1).toMatchObject({ value: 50, target: 48, status: 'breached' });
    expect(json.incidents.open_past_target).toEqual([{ incident_id: 'ranking-open', team: 'ranking', tier: 1, hours_open: 60 }]);
    expect(json.breached.map((entry) => `${entry.id}/${entry.tier}`)).toEqual(expect.arrayContaining(['time_to_mitigate_hours/all', 'time_to_mitigate_hours/1']));
    expect(json.narrative.lowlights.join(' ')).toContain('still unmitigated more than 48 h after detection at the quarter end: ranking-open');
    expect(html).toContain('Unmitigated past the 48 h target at the quarter end (1)');
    expect(html).toContain('ranking-open');
    expect(html).toContain('≤ 48 h');
    expect(html).not.toContain('72 h');
  });

  it("leaves the other team's report on the catalog's 72 h", { timeout: 240_000 }, async () => {
    const { json, html } = await report('search');
    expect(json.incidents.ttm.tier1).toMatchObject({ value: 50, target: 72, status: 'met' });
    expect(json.kpis.find((kpi) => kpi.id === 'time_to_mitigate_hours')).toMatchObject({ value: 50, target: null, status: 'no_target' });
    expect(json.incidents.open_past_target).toEqual([]);
    expect(html).not.toContain('Unmitigated past');
    expect(html).toContain('≤ 72 h');
  });
});
