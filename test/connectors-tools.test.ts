import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';
import { connectorsFile, deliver, deliveries, hmacHex, metricValue, replayWithConfig } from './support/webhooks.ts';

// PagerDuty, GrowthBook and Argo CD cannot run here. Their deliveries follow the shapes their
// documentation and source define (PagerDuty V3 webhook events; GrowthBook event webhooks and its
// REST API's Experiment and ExperimentResults; the Argo CD Notifications template shipped in
// infra/argocd), signed as each tool signs them. GrowthBook's REST API is a local server here.
const PD_SECRET = 'pagerduty-v3-secret';
const GB_SECRET = 'ewhk_growthbook_secret';
const GB_KEY = 'secret_growthbook_api_key';
const ARGO_TOKEN = 'argocd-connector-token';

let growthbookApi: Server;
let growthbookUrl: string;
const growthbookRequests: string[] = [];
/** What the GrowthBook API serves: experiments, their results (replaced as the test goes), metrics. */
const growthbook = { experiments: new Map<string, unknown>(), results: new Map<string, unknown>(), metrics: new Map<string, { inverse: boolean }>() };

const config = (projects = '{}', services = '{PSVC1: {team: ranking, tier: 1, category: model}}') => `
pagerduty:
  secret: ${PD_SECRET}
  services: ${services}
  teams: {PTEAM9: fraud}
  severity: {P1: sev0, P2: sev1}
growthbook:
  secret: ${GB_SECRET}
  api_url: ${growthbookUrl}
  api_key: ${GB_KEY}
  projects: ${projects}
argocd:
  token: ${ARGO_TOKEN}
`;

let pipeline: TestPipeline;
beforeAll(async () => {
  growthbookApi = createServer((request, response) => {
    growthbookRequests.push(request.url ?? '');
    const reply = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.headers.authorization !== `Bearer ${GB_KEY}`) return reply(401, { message: 'bad api key' });
    const results = /^\/api\/v1\/experiments\/([^/]+)\/results$/.exec(request.url ?? '');
    const experiment = /^\/api\/v1\/experiments\/([^/]+)$/.exec(request.url ?? '');
    const metric = /^\/api\/v1\/(metrics|fact-metrics)\/([^/]+)$/.exec(request.url ?? '');
    if (results && growthbook.results.has(results[1]!)) return reply(200, { result: growthbook.results.get(results[1]!) });
    if (experiment && growthbook.experiments.has(experiment[1]!)) return reply(200, { experiment: growthbook.experiments.get(experiment[1]!) });
    if (metric && growthbook.metrics.has(metric[2]!)) return reply(200, { [metric[1] === 'metrics' ? 'metric' : 'factMetric']: { id: metric[2], ...growthbook.metrics.get(metric[2]!) } });
    return reply(404, { message: 'not found' });
  });
  await new Promise<void>((resolve) => growthbookApi.listen(0, '127.0.0.1', resolve));
  growthbookUrl = `http://127.0.0.1:${(growthbookApi.address() as AddressInfo).port}`;
  pipeline = await startPipeline({ env: { KPI_CONNECTORS_FILE: connectorsFile(config()) } });
});
afterAll(async () => {
  await pipeline?.stop();
  await new Promise((resolve) => growthbookApi?.close(resolve));
});
const { value } = kpiReader(() => pipeline);

const replayWith = (yaml: string, id: string) => replayWithConfig(pipeline, yaml, id);

describe('pagerduty connector (V3 webhooks)', { timeout: 180_000 }, () => {
  // A V3 webhook: {event: {id, event_type, resource_type, occurred_at, agent, client, data}} with the incident as data.
  const incident = (id: string, overrides: Record<string, unknown> = {}) => ({
    id,
    type: 'incident',
    self: `https://api.pagerduty.com/incidents/${id}`,
    html_url: `https://acme.pagerduty.com/incidents/${id}`,
    number: 2,
    status: 'triggered',
    incident_key: `key-${id}`,
    created_at: '2026-05-04T09:30:00Z',
    title: 'Ranker CTR dropped',
    service: { html_url: 'https://acme.pagerduty.com/services/PSVC1', id: 'PSVC1', self: 'https://api.pagerduty.com/services/PSVC1', summary: 'Ranker', type: 'service_reference' },
    assignees: [],
    escalation_policy: { id: 'PESC1', summary: 'ML on-call', type: 'escalation_policy_reference' },
    teams: [{ id: 'PTEAM1', summary: 'Ranking', type: 'team_reference' }],
    priority: { html_url: 'https://acme.pagerduty.com/account/incident_priorities', id: 'PPRI1', self: 'https://api.pagerduty.com/priorities/PPRI1', summary: 'P1', type: 'priority_reference' },
    urgency: 'high',
    conference_bridge: null,
    resolve_reason: null,
    ...overrides,
  });
  const webhook = (eventId: string, type: string, occurredAt: string, data: unknown) =>
    JSON.stringify({ event: { id: eventId, event_type: type, resource_type: 'incident', occurred_at: occurredAt, agent: { id: 'PUSER1', type: 'user_reference' }, client: null, data } });
  // X-PagerDuty-Signature: v1=<hex HMAC-SHA256>, several while a secret rotates.
  const signed = (body: string, webhookId: string, secrets: string[] = ['rotated-away-secret', PD_SECRET]) => ({ 'x-pagerduty-signature': secrets.map((secret) => `v1=${hmacHex(secret, body)}`).join(','), 'x-webhook-id': webhookId });

  it('maps triggered, priority_updated and resolved; a page has no start, so no TTD, and its resolution is its mitigation', async () => {
    const triggered = webhook('01EVT1', 'incident.triggered', '2026-05-04T09:30:05Z', incident('Q1ABC'));
    const response = await deliver(pipeline, 'pagerduty', triggered, signed(triggered, 'wh-1'));
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.events).toEqual(['01EVT1']);
    const downgraded = webhook('01EVT2', 'incident.priority_updated', '2026-05-04T10:00:00Z', incident('Q1ABC', { priority: { id: 'PPRI2', summary: 'P2', type: 'priority_reference' } }));
    expect((await deliver(pipeline, 'pagerduty', downgraded, signed(downgraded, 'wh-2'))).status).toBe(202);
    const resolved = webhook('01EVT3', 'incident.resolved', '2026-05-04T15:30:00Z', incident('Q1ABC', { status: 'resolved' }));
    expect((await deliver(pipeline, 'pagerduty', resolved, signed(resolved, 'wh-3'))).status).toBe(202);
    // Resolved 6 h after PagerDuty created it, never mitigated: TTM 6 h at the resolution.
    const ttm = await eventually(async () => {
      const row = await value('time_to_mitigate_hours', 'month', '2026-05-01', 'ranking', '1');
      return row.sample_size === 1 ? row : undefined;
    }, 30_000, 'TTM of the page');
    expect(ttm.value).toBe(6);
    expect((await value('time_to_detect_hours', 'month', '2026-05-01', 'ranking', '1')).sample_size).toBe(0);
    // Opened as P1 (sev0), corrected to P2 (sev1) later: no sev0 incident.
    await eventually(async () => ((await value('sev0_incidents', 'month', '2026-05-01', 'ranking')).value === 0 ? true : undefined), 30_000, 'severity correction');
    expect((await value('model_incidents', 'month', '2026-05-01', 'ranking')).value).toBe(1);
  });

  it('refuses a bad signature, counts a redelivery once, ignores what carries nothing to measure', async () => {
    const before = await metricValue(pipeline, 'kpi_webhook_signature_failures_total', { connector: 'pagerduty' });
    const body = webhook('01EVT4', 'incident.triggered', '2026-05-05T08:00:00Z', incident('Q2DEF', { created_at: '2026-05-05T08:00:00Z' }));
    expect((await deliver(pipeline, 'pagerduty', body, signed(body, 'wh-4', ['wrong-secret']))).status).toBe(401);
    expect(await metricValue(pipeline, 'kpi_webhook_signature_failures_total', { connector: 'pagerduty' })).toBe(before + 1);
    expect((await deliveries(pipeline, { connector: 'pagerduty' })).map((row) => row.delivery_id)).not.toContain('01EVT4');
    const first = await deliver(pipeline, 'pagerduty', body, signed(body, 'wh-5'));
    const again = await deliver(pipeline, 'pagerduty', body, signed(body, 'wh-5'));
    expect([first.status, again.status, again.body.events]).toEqual([202, 202, ['01EVT4']]);
    // One archived delivery per PagerDuty event, whatever the retries.
    expect((await deliveries(pipeline, { connector: 'pagerduty' })).filter((row) => row.delivery_id === '01EVT4')).toHaveLength(1);
    const acknowledged = webhook('01EVT6', 'incident.acknowledged', '2026-05-05T08:05:00Z', incident('Q2DEF'));
    const ignored = await deliver(pipeline, 'pagerduty', acknowledged, signed(acknowledged, 'wh-6'));
    expect(ignored.status).toBe(200);
    expect(ignored.body.ignored).toMatch(/incident\.acknowledged/);
    await eventually(async () => ((await value('model_incidents', 'month', '2026-05-01', 'ranking')).value === 2 ? true : undefined), 30_000, 'second page');
    await pipeline.settle();
    expect((await value('model_incidents', 'month', '2026-05-01', 'ranking')).value).toBe(2);
  });

  it('keeps an incident of an unknown service (422) and replays it once the service is configured', async () => {
    const body = webhook('01EVT7', 'incident.triggered', '2026-05-06T08:00:00Z', incident('Q3GHI', { created_at: '2026-05-06T08:00:00Z', service: { id: 'PSVC7', summary: 'Features', type: 'service_reference' }, teams: [] }));
    const response = await deliver(pipeline, 'pagerduty', body, signed(body, 'wh-7'));
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(/service "PSVC7" is not in pagerduty\.services/);
    const replay = await replayWith(config('{}', '{PSVC1: {team: ranking, tier: 1, category: model}, PSVC7: {team: features, tier: 2, category: data_quality}}'), response.body.delivery!);
    expect(replay).toMatchObject({ status: 202, body: { events: ['01EVT7'] } });
    await eventually(async () => ((await value('data_quality_incidents', 'month', '2026-05-01', 'features')).value === 1 ? true : undefined), 30_000, 'replayed incident');
  });
});

describe('growthbook connector (event webhooks, results from the REST API)', { timeout: 180_000 }, () => {
  const arm = (variationId: string, users: number, mean: number, stddev: number) => ({ variationId, users, analyses: [{ engine: 'frequentist', numerator: mean * users, denominator: users, mean, stddev, percentChange: 0, ciLow: 0, ciHigh: 0, pValue: 0.5 }] });
  const experimentObject = (status: string, extra: Record<string, unknown> = {}) => ({
    id: 'exp_ranker_1',
    dateCreated: '2026-06-01T08:00:00.000Z',
    dateUpdated: '2026-06-02T09:00:00.000Z',
    name: 'Ranker v2',
    project: 'prj_search',
    hypothesis: 'The new ranker lifts CTR',
    description: '',
    tags: ['team:search', 'model:ranker'],
    owner: 'someone',
    archived: false,
    status,
    autoRefresh: true,
    hashAttribute: 'id',
    hashVersion: 2,
    variations: [
      { variationId: 'var_a', key: '0', name: 'Control', description: '', screenshots: [] },
      { variationId: 'var_b', key: '1', name: 'Ranker v2', description: '', screenshots: [] },
    ],
    phases: [{ name: 'Main', dateStarted: '2026-06-02T09:00:00.000Z', dateEnded: status === 'stopped' ? '2026-06-20T09:00:00.000Z' : '', reasonForStopping: '', seed: 'exp_ranker_1', coverage: 1, trafficSplit: [{ variationId: 'var_a', weight: 0.5 }, { variationId: 'var_b', weight: 0.5 }], targetingCondition: '', savedGroups: [] }],
    settings: { datasourceId: 'ds_1', assignmentQueryId: 'user_id', experimentId: 'exp_ranker_1', segmentId: '', queryFilter: '', inProgressConversions: 'include', attributionModel: 'firstExposure', statsEngine: 'frequentist', goals: [{ metricId: 'met_ctr' }], secondaryMetrics: [], guardrails: [{ metricId: 'met_latency' }] },
    ...extra,
  });
  const results = (dateUpdated: string, treatmentLatency: number) => ({
    id: 'snp_1',
    dateUpdated,
    experimentId: 'exp_ranker_1',
    phase: '0',
    dateStart: '2026-06-02T09:00:00.000Z',
    dateEnd: dateUpdated,
    dimension: { type: 'none' },
    settings: {},
    queryIds: [],
    results: [
      {
        dimension: 'All',
        totalUsers: 20000,
        checks: { srm: 0.9 },
        metrics: [
          { metricId: 'met_ctr', variations: [arm('var_a', 10000, 0.1, 0.3), arm('var_b', 10000, 0.11, Math.sqrt(0.0979))] },
          { metricId: 'met_latency', variations: [arm('var_a', 10000, 100, 10), arm('var_b', 10000, treatmentLatency, 10)] },
        ],
      },
    ],
  });
  // X-GrowthBook-Signature: hex HMAC-SHA256 of the raw body with the webhook's secret.
  const updated = (object: unknown, previous: Record<string, unknown>) => JSON.stringify({ event: 'experiment.updated', object: 'experiment', api_version: '2024-07-31', created: 1780000000000, data: { object, previous_attributes: previous }, user: { type: 'dashboard', id: 'u_1', name: 'Someone', email: 'someone@example.com' } });
  const signed = (body: string, secret = GB_SECRET) => ({ 'x-growthbook-signature': hmacHex(secret, body), 'user-agent': 'GrowthBook Webhook' });

  it('starts the experiment, pulls its readout, decides it when it stops and pulls the final readout', async () => {
    growthbook.metrics.set('met_ctr', { inverse: false }).set('met_latency', { inverse: true });
    growthbook.experiments.set('exp_ranker_1', experimentObject('running'));
    growthbook.results.set('exp_ranker_1', results('2026-06-10T09:00:00.000Z', 100));
    const running = updated(experimentObject('running'), { status: 'draft' });
    const started = await deliver(pipeline, 'growthbook', running, signed(running));
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.events).toEqual(['exp_ranker_1:started:2026-06-02T09:00:00.000Z']);
    // The pull queued by the webhook produces the readout: throughput counts the first readout's month.
    await eventually(async () => ((await value('experiment_throughput', 'month', '2026-06-01', 'search')).value === 1 ? true : undefined), 60_000, 'the pulled readout');
    // Stopped as won: decided ship, and the final results pulled (now with a latency regression).
    growthbook.results.set('exp_ranker_1', results('2026-06-20T09:00:00.000Z', 103));
    const stopped = updated(experimentObject('stopped', { resultSummary: { status: 'won', winner: 'var_b', conclusions: '', releasedVariationId: 'var_b', excludeFromPayload: false } }), { status: 'running' });
    const decided = await deliver(pipeline, 'growthbook', stopped, signed(stopped));
    expect(decided.body.events).toEqual(['exp_ranker_1:stopped:2026-06-20T09:00:00.000Z']);
    // By hand (SPEC §4): CTR control 0.10 (v 0.09), treatment 0.11 (v 0.0979), n 10000 each: L = 0.1,
    // SE = sqrt(0.0979/(10000*0.01) + 0.0121*0.09/(10000*0.0001)) = 0.04548, CI excludes 0: a win of 0.1.
    // Latency (inverse): 100 -> 103 with sd 10: L = 0.03, SE ~ 0.00144, a significant regression.
    const lift = await eventually(async () => {
      const row = await value('shipped_lift', 'month', '2026-06-01', 'search');
      return row.value !== null && row.value > 0 ? row : undefined;
    }, 60_000, 'shipped lift');
    expect(lift.value).toBeCloseTo(0.1, 6);
    await eventually(async () => ((await value('guardrail_breaches', 'month', '2026-06-01', 'search')).value === 1 ? true : undefined), 60_000, 'the guardrail regression of the final readout');
    const [experiment] = (await pipeline.get('/v1/experiments?team=search')).body.experiments;
    expect(experiment).toMatchObject({ experiment_id: 'growthbook:exp_ranker_1', decision: 'ship', actionable: true, latest_readout_at: '2026-06-20T09:00:00.000Z', guardrail_regressions: ['met_latency'] });
  });

  it('pulls the results of running experiments on its schedule', async () => {
    growthbook.experiments.set('exp_search_2', { ...experimentObject('running'), id: 'exp_search_2', phases: [{ ...experimentObject('running').phases[0], dateStarted: '2026-07-01T09:00:00.000Z' }] });
    growthbook.results.set('exp_search_2', { ...results('2026-07-03T09:00:00.000Z', 100), experimentId: 'exp_search_2' });
    const running = updated(growthbook.experiments.get('exp_search_2'), { status: 'draft' });
    expect((await deliver(pipeline, 'growthbook', running, signed(running))).status).toBe(202);
    await eventually(async () => ((await value('experiment_throughput', 'month', '2026-07-01', 'search')).value === 1 ? true : undefined), 60_000, 'first July readout');
    const pulled = () => growthbookRequests.filter((url) => url === '/api/v1/experiments/exp_search_2/results').length;
    const before = pulled();
    growthbook.results.set('exp_search_2', { ...results('2026-07-05T09:00:00.000Z', 100), experimentId: 'exp_search_2' });
    // One run of the repeatable job (it runs every 30 minutes): exp_search_2 runs, exp_ranker_1 has stopped.
    await pipeline.runtime.queues.queue('growthbookPoll').add('growthbook-poll-running', {});
    await eventually(async () => (pulled() > before ? true : undefined), 30_000, 'the scheduled pull');
    expect(growthbookRequests.filter((url) => url.endsWith('/exp_ranker_1/results')).length).toBe(2);
    await eventually(async () => {
      const [latest] = (await pipeline.get('/v1/experiments?team=search')).body.experiments;
      return latest!.latest_readout_at === '2026-07-05T09:00:00.000Z' ? true : undefined;
    }, 30_000, 'the scheduled readout');
  });

  it('refuses a bad signature, counts a redelivery once, ignores other events, keeps an unmappable experiment for replay', async () => {
    const body = updated(experimentObject('running'), { status: 'draft' });
    expect((await deliver(pipeline, 'growthbook', body, signed(body, 'ewhk_wrong'))).status).toBe(401);
    // Redelivered by GrowthBook's retry: the same ids.
    expect((await deliver(pipeline, 'growthbook', body, signed(body))).body.events).toEqual(['exp_ranker_1:started:2026-06-02T09:00:00.000Z']);
    const feature = JSON.stringify({ event: 'feature.updated', object: 'feature', data: { object: { id: 'checkout-v2' } } });
    expect((await deliver(pipeline, 'growthbook', feature, signed(feature))).body.ignored).toMatch(/feature\.updated/);
    const renamed = updated(experimentObject('running', { name: 'Ranker v2 (renamed)' }), { name: 'Ranker v2' });
    expect((await deliver(pipeline, 'growthbook', renamed, signed(renamed))).body.ignored).toMatch(/neither started nor stopped/);
    const untagged = updated({ ...experimentObject('running'), id: 'exp_untagged', tags: [] }, { status: 'draft' });
    growthbook.experiments.set('exp_untagged', { ...experimentObject('running'), id: 'exp_untagged', tags: [] });
    const response = await deliver(pipeline, 'growthbook', untagged, signed(untagged));
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(/project "prj_search" is not in growthbook\.projects/);
    const replay = await replayWith(config('{prj_search: search}'), response.body.delivery!);
    expect(replay).toMatchObject({ status: 202, body: { events: ['exp_untagged:started:2026-06-02T09:00:00.000Z'] } });
  });
});

describe('argocd connector (the notifications template of infra/argocd)', { timeout: 180_000 }, () => {
  const sync = (revision: string, finishedAt: string, labels: Record<string, unknown> = { team: 'payments', tier: '1', model_id: 'fraud-scorer', environment: 'production' }) =>
    JSON.stringify({ app: 'fraud-scorer-prod', revision, finished_at: finishedAt, ...labels });
  const bearer = (token = ARGO_TOKEN) => ({ authorization: `Bearer ${token}` });

  it('maps syncs to releases and a sync back to an earlier revision to a rollback', async () => {
    const first = await deliver(pipeline, 'argocd', sync('a1b2c3', '2026-08-03T10:00:00Z'), bearer());
    expect(first.body.events).toEqual(['fraud-scorer-prod:a1b2c3:2026-08-03T10:00:00.000Z']);
    expect((await deliver(pipeline, 'argocd', sync('d4e5f6', '2026-08-04T10:00:00Z'), bearer())).status).toBe(202);
    await eventually(async () => ((await value('releases_delivered', 'month', '2026-08-01', 'payments')).value === 2 ? true : undefined), 30_000, 'two syncs');
    const back = await deliver(pipeline, 'argocd', sync('a1b2c3', '2026-08-05T10:00:00Z'), bearer());
    expect(back.body.events).toEqual(['fraud-scorer-prod:a1b2c3:2026-08-05T10:00:00.000Z:rollback:argocd:fraud-scorer-prod:d4e5f6']);
    const cfr = await eventually(async () => {
      const row = await value('change_failure_rate', 'month', '2026-08-01', 'payments');
      return row.numerator === 1 ? row : undefined;
    }, 30_000, 'rollback counted');
    expect([cfr.value, cfr.denominator]).toEqual([0.5, 2]);
  });

  it('refuses a wrong token, counts a redelivery once, ignores other environments, keeps a sync without team', async () => {
    expect((await deliver(pipeline, 'argocd', sync('a1b2c3', '2026-08-03T10:00:00Z'), bearer('not-the-token'))).status).toBe(401);
    expect((await deliver(pipeline, 'argocd', sync('a1b2c3', '2026-08-03T10:00:00Z'), {})).status).toBe(401);
    expect((await deliver(pipeline, 'argocd', sync('a1b2c3', '2026-08-03T10:00:00Z'), bearer())).body.events).toEqual(['fraud-scorer-prod:a1b2c3:2026-08-03T10:00:00.000Z']);
    expect((await deliver(pipeline, 'argocd', sync('ffffff', '2026-08-06T10:00:00Z', { team: 'payments', tier: '1', environment: 'staging' }), bearer())).body.ignored).toMatch(/staging/);
    const unlabelled = await deliver(pipeline, 'argocd', sync('eeeeee', '2026-08-06T11:00:00Z', { team: null, tier: null }), bearer());
    expect(unlabelled.status).toBe(422);
    expect(unlabelled.body.message).toMatch(/label kpi\.team is not set on Application fraud-scorer-prod/);
    expect((await deliveries(pipeline, { connector: 'argocd', outcome: 'unmappable' })).map((row) => row.id)).toEqual([unlabelled.body.delivery]);
    await pipeline.settle();
    expect(await countEvents(pipeline.runtime, 'argocd')).toBe(3);
    expect((await value('releases_delivered', 'month', '2026-08-01', 'payments')).value).toBe(2);
  });
});
