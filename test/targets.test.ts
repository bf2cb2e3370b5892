import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { buildApi } from '@kpi/api';
import { startWorkerRole } from '@kpi/worker';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';

// Team "ml-platform" answers surveys 4 and 3 in March 2026: mean 3.5, below the catalog's 4.2.
// The targets file lowers the organisation's bar to 3.0; the admin API then sets the team's own.
// The file also sets ml-platform's quarterly time to mitigate to 48 h: its tier-1 incident detected
// 2026-03-29T12:00Z and never mitigated is open 60 h at the end of 2026-Q1, past 48 h (not past
// the catalog's 72 h), so the worker's backlog lists it.
let pipeline: TestPipeline;
const targetsFile = join(mkdtempSync(join(tmpdir(), 'kpi-targets-')), 'targets.yaml');
writeFileSync(
  targetsFile,
  '- { team: all, kpi: stakeholder_satisfaction, op: ">=", value: 3.0 }\n- { team: ml-platform, kpi: time_to_mitigate_hours, op: "<=", value: 48, granularity: quarter }\n',
);

beforeAll(async () => {
  pipeline = await startPipeline({ env: { KPI_TARGETS_FILE: targetsFile } });
  await pipeline.produce([
    makeEvent('survey.response', { team: 'ml-platform', score: 4 }, { id: 's1', time: '2026-03-02T10:00:00Z' }),
    makeEvent('survey.response', { team: 'ml-platform', score: 3 }, { id: 's2', time: '2026-03-03T10:00:00Z' }),
    makeEvent('incident.opened', { incident_id: 'mlp-open', team: 'ml-platform', tier: 1, severity: 'sev1', category: 'model', detected_at: '2026-03-29T12:00:00Z' }, { id: 'i1', time: '2026-03-29T13:00:00Z' }),
  ]);
  await eventually(async () => ((await march('ml-platform'))?.value === 3.5 ? true : undefined), 30_000, 'March satisfaction');
});
afterAll(() => pipeline?.stop());

async function march(team: string) {
  const response = await pipeline.get(`/v1/kpis/stakeholder_satisfaction/values?granularity=month&from=2026-03-01&to=2026-04-01&team=${team}`);
  return response.body.values[0];
}

describe('target overrides', () => {
  it('apply the catalog default, then the targets file, then the admin API', async () => {
    expect(await march('ml-platform')).toMatchObject({ value: 3.5, target: 4.2, status: 'breached' });
    expect(await march('all')).toMatchObject({ value: 3.5, target: 3, status: 'met' });

    const set = await pipeline.api.inject({ method: 'PUT', url: '/v1/targets/stakeholder_satisfaction/ml-platform', headers: { authorization: `Bearer ${TOKENS.admin}` }, payload: { op: '>=', value: 3.5, granularity: 'month' } });
    expect(set.statusCode).toBe(200);
    expect(await march('ml-platform')).toMatchObject({ value: 3.5, target: 3.5, status: 'met' });
    const listed = await pipeline.get('/v1/targets');
    expect(listed.body.overrides).toEqual(
      expect.arrayContaining([
        { kpi: 'stakeholder_satisfaction', team: 'ml-platform', op: '>=', value: 3.5, granularity: 'month' },
        { kpi: 'stakeholder_satisfaction', team: 'all', op: '>=', value: 3 },
      ]),
    );

    const removed = await pipeline.api.inject({ method: 'DELETE', url: '/v1/targets/stakeholder_satisfaction/ml-platform?granularity=month', headers: { authorization: `Bearer ${TOKENS.admin}` } });
    expect(removed.statusCode).toBe(204);
    expect(await march('ml-platform')).toMatchObject({ target: 4.2, status: 'breached' });
  });

  it("of the targets file are the ones the worker's TTM backlog counts against", async () => {
    const backlog = async (granularity: 'quarter' | 'month', from: string) => {
      const response = await pipeline.get(`/v1/kpis/time_to_mitigate_hours/values?granularity=${granularity}&from=${from}&to=2026-04-01&team=ml-platform`);
      return response.body.values[0]?.details;
    };
    const quarter = await eventually(async () => ((await backlog('quarter', '2026-01-01'))?.open_past_target === 1 ? backlog('quarter', '2026-01-01') : undefined), 30_000, 'the quarter backlog');
    expect(quarter).toMatchObject({ open_past_target: 1, open_past_target_incidents: [{ incident_id: 'mlp-open', team: 'ml-platform', tier: 1, hours_open: 60 }] });
    // March ends at the same instant, but the file's override is for quarters: 72 h applies.
    expect(await backlog('month', '2026-03-01')).toMatchObject({ open_past_target: 0 });
  });

  it('are refused without the admin role or with a bad body, naming the problem', async () => {
    const put = (token: string, payload: unknown, url = '/v1/targets/stakeholder_satisfaction/ml-platform') =>
      pipeline.api.inject({ method: 'PUT', url, headers: { authorization: `Bearer ${token}` }, payload: payload as object });
    expect((await put(TOKENS.read, { op: '>=', value: 1 })).statusCode).toBe(403);
    const bad = await put(TOKENS.admin, { op: '=>', value: 'high' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('body.op');
    expect((await put(TOKENS.admin, { op: '>=', value: 1 }, '/v1/targets/no_such_kpi/ml-platform')).statusCode).toBe(404);
  });

  it('are read once, at start-up: roles started later work from the configuration, not from the file', async () => {
    writeFileSync(targetsFile, 'this: [is not a targets file');
    const api = await buildApi({ runtime: pipeline.runtime, tokens: pipeline.runtime.config.apiTokens! });
    const worker = await startWorkerRole(pipeline.runtime);
    try {
      const response = await api.inject({ url: '/v1/kpis/stakeholder_satisfaction/values?granularity=month&from=2026-03-01&to=2026-04-01&team=all', headers: { authorization: `Bearer ${TOKENS.read}` } });
      expect(response.json().values[0]).toMatchObject({ target: 3, status: 'met' });
    } finally {
      await worker.stop();
      await api.close();
    }
  });
});
