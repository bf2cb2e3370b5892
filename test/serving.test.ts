import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { makeEvent, type AnyEvent } from '@kpi/events';
import { SUBSCRIBER_NAME } from '@kpi/serving';
import { startWorkerRole } from '@kpi/worker';
import type { RoleHandle } from '@kpi/runtime';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';

// Reads are answered from KPI values kept in memory by every process that serves them (SPEC §7),
// kept current by the jobs that compute them, in any process. Two API "processes" here are two
// runtimes on the same Redis and ClickHouse database, as several API replicas in server mode are.

const survey = (id: string, team: string, score: number, time: string): AnyEvent => makeEvent('survey.response', { team, score }, { source: 'serving-test', id, time });
const MONTH = '2026-03';

let a: TestPipeline;
let b: TestPipeline;
let bWorker: RoleHandle | undefined;

/** stakeholder_satisfaction in the scorecard of 2026-Q1 for a team, as one instance's API answers it. */
async function scorecardSatisfaction(pipeline: TestPipeline, team = 'ranking') {
  const scorecard = await pipeline.client.read.get('/v1/scorecard', { query: { quarter: '2026-Q1', team } });
  return scorecard.kpis.find((kpi) => kpi.id === 'stakeholder_satisfaction')!;
}

/** stakeholder_satisfaction of March for a team, as one instance's API answers it. */
async function satisfaction(pipeline: TestPipeline, team = 'ranking') {
  const values = await pipeline.client.read.get('/v1/kpis/:id/values', { params: { id: 'stakeholder_satisfaction' }, query: { granularity: 'month', from: `${MONTH}-01`, to: '2026-04-01', team } });
  return values.values[0]!;
}

beforeAll(async () => {
  // A: ingest, worker and API. B: an API only at first, on A's Redis and database.
  a = await startPipeline();
  b = await startPipeline({ roles: [], env: a.env });
});
afterAll(async () => {
  await bWorker?.stop();
  await b?.stop();
  await a?.stop();
});

describe('serving while ingesting', () => {
  it('two API instances answer the same values after a recompute made by either', async () => {
    // A's worker recomputes; B learns the values through Redis.
    await a.produce([survey('s1', 'ranking', 4, `${MONTH}-02T10:00:00Z`), survey('s2', 'ranking', 2, `${MONTH}-03T10:00:00Z`)]);
    await eventually(async () => ((await satisfaction(a)).sample_size === 2 ? true : undefined), 30_000, 'A counts two answers');
    await eventually(async () => ((await satisfaction(b)).sample_size === 2 ? true : undefined), 5_000, 'B counts two answers');
    expect(await satisfaction(b)).toEqual(await satisfaction(a));
    expect((await satisfaction(a)).value).toBe(3);
    // Scorecards (kept between reads while their scope's values stay the same) say so too.
    await eventually(async () => ((await scorecardSatisfaction(a)).sample_size === 2 ? true : undefined), 5_000, 'A scores two answers');
    expect((await scorecardSatisfaction(a)).value).toBe(3);

    // Now only B's worker runs: A (which still ingests) learns B's values through Redis.
    bWorker = await startWorkerRole(b.runtime);
    await a.stopRole('worker');
    await a.produce([survey('s3', 'ranking', 5, `${MONTH}-04T10:00:00Z`)]);
    await eventually(async () => ((await satisfaction(b)).sample_size === 3 ? true : undefined), 30_000, 'B counts three answers');
    await eventually(async () => ((await satisfaction(a)).sample_size === 3 ? true : undefined), 5_000, 'A counts three answers');
    expect(await satisfaction(a)).toEqual(await satisfaction(b));
    expect((await satisfaction(a)).value).toBeCloseTo(11 / 3, 12);
    await eventually(async () => ((await scorecardSatisfaction(a)).sample_size === 3 ? true : undefined), 5_000, 'A scores three answers');
    expect((await scorecardSatisfaction(a)).value).toBeCloseTo(11 / 3, 12);
    expect((await scorecardSatisfaction(b)).value).toBeCloseTo(11 / 3, 12);
  });

  it('a restart serves the same values before any recompute', async () => {
    const scorecards = async (pipeline: TestPipeline) => Promise.all(['all', 'ranking'].map((team) => pipeline.client.read.get('/v1/scorecard', { query: { quarter: '2026-Q1', team } })));
    const before = await scorecards(a);
    // A new process on the same database: no worker, nothing produced, so nothing is recomputed.
    const restarted = await startPipeline({ roles: [], env: a.env });
    try {
      expect(await scorecards(restarted)).toEqual(before);
      expect(await satisfaction(restarted)).toEqual(await satisfaction(a));
    } finally {
      await restarted.stop();
    }
  });

  it('a target override is visible at once in the instance that set it, and in the other one', async () => {
    expect(await scorecardSatisfaction(a)).toMatchObject({ target: 4.2, status: 'breached' });
    const put = await a.api.inject({ method: 'PUT', url: '/v1/targets/stakeholder_satisfaction/ranking', payload: { op: '>=', value: 3.5 }, headers: { authorization: `Bearer ${TOKENS.admin}` } });
    expect(put.statusCode).toBe(200);
    expect(await scorecardSatisfaction(a)).toMatchObject({ target: 3.5, status: 'met' });
    // 11/3 = 3.67 >= 3.5: met (the default target, >= 4.2, says breached).
    expect(await satisfaction(a)).toMatchObject({ target: 3.5, status: 'met' });
    await eventually(async () => ((await satisfaction(b)).target === 3.5 ? true : undefined), 5_000, 'B judges against 3.5');
    expect(await satisfaction(b)).toMatchObject({ target: 3.5, status: 'met' });
  });

  it('a deleted custom KPI is gone at once in the instance that deleted it, and from the other one', async () => {
    const admin = { authorization: `Bearer ${TOKENS.admin}` };
    const definition = { name: 'Survey answers', unit: 'count', direction: 'higher', source: 'survey.response', value: { agg: 'count' } };
    expect((await a.api.inject({ method: 'PUT', url: '/v1/kpis/survey_answers', payload: definition, headers: admin })).statusCode).toBe(201);
    const answers = async (pipeline: TestPipeline) => pipeline.get(`/v1/kpis/survey_answers/values?granularity=month&from=${MONTH}-01&to=2026-04-01&team=ranking`);
    await eventually(async () => ((await answers(a)).body.values?.[0]?.value === 3 ? true : undefined), 30_000, 'A counts the custom KPI');
    await eventually(async () => ((await answers(b)).body.values?.[0]?.value === 3 ? true : undefined), 10_000, 'B counts the custom KPI');
    const scoredIds = async () => ((await a.get('/v1/scorecard?quarter=2026-Q1')).body.kpis as { id: string }[]).map((kpi) => kpi.id);
    expect(await scoredIds()).toContain('survey_answers');
    expect((await a.api.inject({ method: 'DELETE', url: '/v1/kpis/survey_answers', headers: admin })).statusCode).toBe(204);
    expect((await answers(a)).status).toBe(404);
    expect(await scoredIds()).not.toContain('survey_answers');
    await eventually(async () => ((await answers(b)).status === 404 ? true : undefined), 5_000, 'B forgets the custom KPI');
    expect(b.runtime.serving.values.read({ kpis: ['survey_answers'], granularity: 'month', tier: 'all', teams: ['ranking', '*'], from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') })).toEqual([]);
  });

  it('an instance that lost its update channel loads the values again and catches up', async () => {
    const reloads = b.runtime.serving.reloads;
    // Redis drops every subscriber, as when it restarts: updates sent meanwhile never reach them.
    const redis = new Redis(a.env.REDIS_URL!);
    const clients = String(await redis.client('LIST')).split('\n').filter((line) => line.includes(`name=${SUBSCRIBER_NAME}`));
    expect(clients.length).toBeGreaterThanOrEqual(2);
    await redis.client('KILL', 'TYPE', 'pubsub');
    redis.disconnect();
    await b.produce([survey('s4', 'ranking', 1, `${MONTH}-05T10:00:00Z`)]);
    await eventually(async () => (b.runtime.serving.reloads > reloads ? true : undefined), 10_000, 'B reloads its values');
    await eventually(async () => ((await satisfaction(b)).sample_size === 4 ? true : undefined), 30_000, 'B counts four answers');
    await eventually(async () => ((await satisfaction(a)).sample_size === 4 ? true : undefined), 10_000, 'A counts four answers');
    expect(await satisfaction(a)).toEqual(await satisfaction(b));
  });

  it('the team list adds a model first named after the list was read, and keeps the ones read before', async () => {
    const window = (id: string, model: string, time: string): AnyEvent =>
      makeEvent('serving.window', { model_id: model, team: 'team-list', tier: 2, requests: 100, latency_p95_ms: 50, cost_usd: 0.1 }, { source: 'serving-test', id, time });
    const teamList = async () => (await a.client.read.get('/v1/teams', {})).teams.find((summary) => summary.team === 'team-list');
    await a.produce([window('w1', 'model-a', `${MONTH}-05T10:00:00Z`)]);
    await eventually(async () => ((await teamList())?.events === 1 ? true : undefined), 30_000, 'the team listed with one event');
    expect(await teamList()).toEqual({ team: 'team-list', models: ['model-a'], events: 1, last_event_at: `${MONTH}-05T10:00:00.000Z` });
    // A refresh now reads only the models of the events ingested since the previous one.
    await a.produce([window('w2', 'model-b', `${MONTH}-06T10:00:00Z`)]);
    await eventually(async () => ((await teamList())?.events === 2 ? true : undefined), 30_000, 'the team listed with two events');
    expect(await teamList()).toEqual({ team: 'team-list', models: ['model-a', 'model-b'], events: 2, last_event_at: `${MONTH}-06T10:00:00.000Z` });
  });
});
