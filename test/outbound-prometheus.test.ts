import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { GRANULARITIES, granularitiesOf, kpiById, periodOf } from '@kpi/kpi';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { promtoolCheckMetrics, startPrometheus, type LocalServer } from './support/prometheus.ts';

// GET /v1/metrics scraped by a real Prometheus (Debian's `prometheus`) with a bearer token, the API
// listening on a free port. Two teams release this week; values are computed here from the SPEC.
let pipeline: TestPipeline;
let prometheus: LocalServer;
let origin: string;

const TEAM = 'outbound-prom';
const OTHER = 'outbound-prom-b';
const now = Date.now();
// Instants in the current week (hence month, quarter), whatever day it is.
const weekStart = periodOf('week', now).start.getTime();
const recent = (msAgo: number) => new Date(Math.max(weekStart + 1_000, now - msAgo)).toISOString();

let eventNo = 0;
const release = (id: string, team: string, tier: 1 | 2, readiness: boolean, msAgo: number): CloudEvent =>
  makeEvent(
    'release.deployed',
    { release_id: id, model_id: `${team}-model`, model_version: id, team, tier, environment: 'production', readiness_first_pass: readiness,
      reproducible: true, docs: { model_card: true, runbook: true, readout: true }, monitoring: { drift_enabled: true, drift_alerting: true, features: [] } },
    { source: 'ci', id: `prom-${++eventNo}`, time: recent(msAgo) },
  );
const EVENTS: CloudEvent[] = [
  release('p-r1', TEAM, 1, true, 600_000),
  release('p-r2', TEAM, 1, false, 590_000),
  release('p-r3', TEAM, 2, true, 580_000),
  release('p-r4', TEAM, 2, true, 570_000),
  release('p-o1', OTHER, 1, false, 560_000),
  makeEvent('release.rolled_back', { release_id: 'p-r1', model_id: `${TEAM}-model`, team: TEAM }, { source: 'ci', id: `prom-${++eventNo}`, time: recent(300_000) }),
];
// By hand (SPEC section 5): change_failure_rate = rolled back within 7 days / production releases;
// readiness_first_pass_rate = releases with readiness_first_pass / releases reporting it.
const EXPECTED = {
  change_failure_rate: { [TEAM]: { all: 1 / 4, '1': 1 / 2, '2': 0 / 2 }, all: { all: 1 / 5, '1': 1 / 3, '2': 0 / 2 } },
  readiness_first_pass_rate: { [TEAM]: { all: 3 / 4, '1': 1 / 2, '2': 2 / 2 }, all: { all: 3 / 5, '1': 1 / 3, '2': 2 / 2 } },
  releases_delivered: { [TEAM]: { all: 4, '1': 2, '2': 2 }, all: { all: 5, '1': 3, '2': 2 } },
} as const;

const SCRAPE_CONFIG = (target: string) => `
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kpi
    metrics_path: /v1/metrics
    authorization:
      type: Bearer
      credentials: ${TOKENS.read}
    static_configs:
      - targets: ['${target}']
  - job_name: kpi-wrong-token
    metrics_path: /v1/metrics
    authorization:
      type: Bearer
      credentials: not-a-token
    static_configs:
      - targets: ['${target}']
`;

beforeAll(async () => {
  pipeline = await startPipeline({ env: { ALERT_DEFAULT_RULES: '0' } });
  await pipeline.produce(EVENTS);
  await eventually(async () => ((await pipeline.get(`/v1/kpis/releases_delivered/values?granularity=week&team=${TEAM}`)).body.values.at(-1)?.value === 4 ? true : undefined), 60_000, 'the releases counted');
  await pipeline.settle();
  origin = await pipeline.api.listen({ port: 0, host: '127.0.0.1' });
  prometheus = await startPrometheus(SCRAPE_CONFIG(new URL(origin).host));
});
afterAll(async () => {
  await prometheus?.stop();
  await pipeline?.stop();
});

async function promql(query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${query}: ${body.error}`);
  return body.data.result;
}

/** The exposition's samples: `name{labels} value`. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not an exposition line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((label) => [label[1]!, label[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

describe('GET /v1/metrics', () => {
  it('needs a read token, and is Prometheus text that promtool accepts', async () => {
    expect((await pipeline.api.inject({ method: 'GET', url: '/v1/metrics' })).statusCode).toBe(401);
    const response = await pipeline.api.inject({ method: 'GET', url: '/v1/metrics', headers: { authorization: `Bearer ${TOKENS.read}` } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    await expect(promtoolCheckMetrics(response.body)).resolves.toBeDefined();
  });

  it('has every KPI for every granularity, team scope and tier; null values are absent, never NaN or 0', async () => {
    const text = (await pipeline.get('/v1/metrics')).body as string;
    const all = samples(text);
    expect(all.filter((sample) => !Number.isFinite(sample.value))).toEqual([]);
    const kpis = await pipeline.client.read.get('/v1/kpis');
    // Each KPI at the granularities it offers (day only for the daily ones).
    const scopes = GRANULARITIES.flatMap((granularity) =>
      ['all', TEAM, OTHER].flatMap((team) => kpis.filter((kpi) => kpi.granularities.includes(granularity)).flatMap((kpi) => (kpi.tiered ? ['all', '1', '2', '3'] : ['all']).map((tier) => ({ kpi, team, tier, granularity })))),
    );
    const of = (name: string, labels: Record<string, string>) => all.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
    for (const { kpi, team, tier, granularity } of scopes) {
      const labels = { kpi: kpi.id, team, tier, granularity };
      const what = JSON.stringify(labels);
      expect(of('kpi_sample_size', labels), what).toHaveLength(1);
      const statuses = of('kpi_status', labels);
      expect(statuses.map((sample) => sample.labels.status).sort(), what).toEqual(['breached', 'met', 'no_data', 'no_target']);
      expect(statuses.filter((sample) => sample.value === 1), what).toHaveLength(1);
    }
    expect(of('kpi_sample_size', {})).toHaveLength(scopes.length);
    // The same numbers as the API for the current period: every KPI of the organisation and of the
    // team in the current quarter (GET /v1/scorecard), and in the current month (GET /v1/kpis/:id/values).
    for (const team of ['all', TEAM]) {
      const scorecard = await pipeline.client.read.get('/v1/scorecard', { query: { team } });
      expect(scorecard.kpis.map((kpi) => kpi.id).sort()).toEqual(kpis.map((kpi) => kpi.id).sort());
      for (const kpi of scorecard.kpis) {
        const labels = { kpi: kpi.id, team, tier: 'all', granularity: 'quarter' };
        expect(of('kpi_status', labels).find((sample) => sample.value === 1)!.labels.status, JSON.stringify(labels)).toBe(kpi.status);
        expect(of('kpi_value', labels).map((sample) => sample.value), JSON.stringify(labels)).toEqual(kpi.value === null ? [] : [kpi.value]);
        expect(of('kpi_target', labels).map((sample) => sample.value), JSON.stringify(labels)).toEqual(kpi.target === null ? [] : [kpi.target]);
      }
    }
    const month = periodOf('month', Date.now());
    await Promise.all(
      kpis.map(async (kpi) => {
        const labels = { kpi: kpi.id, team: TEAM, tier: 'all', granularity: 'month' };
        const what = JSON.stringify(labels);
        const current = (await pipeline.get(`/v1/kpis/${kpi.id}/values?granularity=month&team=${TEAM}&from=${month.start.toISOString()}&to=${month.end.toISOString()}`)).body.values[0]!;
        expect(of('kpi_status', labels).find((sample) => sample.value === 1)!.labels.status, what).toBe(current.status);
        expect(of('kpi_value', labels).map((sample) => sample.value), what).toEqual(current.value === null ? [] : [current.value]);
        expect(of('kpi_target', labels).map((sample) => sample.value), what).toEqual(current.target === null ? [] : [current.target]);
        expect(of('kpi_sample_size', labels)[0]!.value, what).toBe(current.sample_size);
      }),
    );
    // No incident this week: time to detect has no value (absent), a sample size of 0 and status no_data.
    expect(text).not.toMatch(new RegExp(`kpi_value\\{kpi="time_to_detect_hours",team="${TEAM}"`));
    expect(text).toContain(`kpi_sample_size{kpi="time_to_detect_hours",team="${TEAM}",tier="all",granularity="week"} 0`);
    expect(text).toContain(`kpi_status{kpi="time_to_detect_hours",team="${TEAM}",tier="all",granularity="week",status="no_data"} 1`);
  }, 180_000);
});

describe('a real Prometheus scraping GET /v1/metrics', () => {
  it('scrapes with the bearer token (and not without a valid one)', async () => {
    const targets = await eventually(async () => {
      const response = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] } };
      const active = response.data.activeTargets;
      return active.length === 2 && active.every((target) => target.health !== 'unknown') && active.find((target) => target.labels.job === 'kpi')?.health === 'up' ? active : undefined;
    }, 60_000, 'both targets scraped');
    expect(targets.find((target) => target.labels.job === 'kpi')).toMatchObject({ health: 'up', lastError: '' });
    expect(targets.find((target) => target.labels.job === 'kpi-wrong-token')).toMatchObject({ health: 'down', lastError: expect.stringContaining('401') });
  });

  it('PromQL returns what GET /v1/kpis/:id/values says for the current period, and what the SPEC says', async () => {
    const kpis = Object.keys(EXPECTED).join('|');
    // The granularities of the release KPIs (no day: they do not measure daily).
    for (const granularity of granularitiesOf(kpiById('releases_delivered')!)) {
      // One query per granularity: the three KPIs, the organisation and the team, every tier.
      const selector = `{kpi=~"${kpis}", team=~"all|${TEAM}", tier=~"all|1|2", granularity="${granularity}", job="kpi"}`;
      const values = await eventually(async () => {
        const result = await promql(`kpi_value${selector}`);
        return result.length === 18 ? result : undefined;
      }, 30_000, `the ${granularity} values scraped`);
      const statuses = await promql(`kpi_status${selector} == 1`);
      const period = periodOf(granularity, Date.now());
      await Promise.all(
        values.map(async ({ metric, value: [, text] }) => {
          const what = `${metric.kpi} ${metric.team} tier ${metric.tier} ${granularity}`;
          const expected = (EXPECTED as Record<string, Record<string, Record<string, number>>>)[metric.kpi!]![metric.team!]![metric.tier!]!;
          const current = (await pipeline.get(`/v1/kpis/${metric.kpi}/values?granularity=${granularity}&team=${metric.team}&tier=${metric.tier}&from=${period.start.toISOString()}&to=${period.end.toISOString()}`)).body.values[0]!;
          expect(current.value, what).toBeCloseTo(expected, 12);
          expect(Number(text), what).toBe(current.value);
          const status = statuses.find((series) => series.metric.kpi === metric.kpi && series.metric.team === metric.team && series.metric.tier === metric.tier);
          expect(status?.metric.status, what).toBe(current.status);
        }),
      );
    }
    // The change failure rate of the team (1/4) breaches its 0.15 target; the query a user would alert on.
    const breached = await promql(`kpi_status{kpi="change_failure_rate", status="breached", granularity="month", tier="all", job="kpi"} == 1`);
    expect(breached.map((series) => series.metric.team).sort()).toEqual(['all', TEAM]);
  }, 180_000);

  it('answers every query of the Prometheus Grafana dashboard', async () => {
    const dashboard = JSON.parse(readFileSync(fileURLToPath(new URL('../dashboards/grafana/dashboards/kpi-prometheus.json', import.meta.url)), 'utf8'));
    const variables: Record<string, string> = { granularity: 'month', team: TEAM, tier: 'all', kpi: 'change_failure_rate|readiness_first_pass_rate' };
    const substitute = (expr: string) => expr.replace(/\$(\w+)/g, (_, name: string) => variables[name] ?? `$${name}`);
    for (const variable of dashboard.templating.list.filter((candidate: { type: string }) => candidate.type === 'query')) {
      // label_values(metric{selector}, label) is Grafana's call of the series API.
      const [, selector, label] = /^label_values\((.+), (\w+)\)$/.exec(variable.definition)!;
      const response = (await (await fetch(`${prometheus.url}/api/v1/series?match[]=${encodeURIComponent(substitute(selector!))}`)).json()) as { data: Record<string, string>[] };
      const values = [...new Set(response.data.map((series) => series[label!]))];
      expect(values, variable.name).toContain(variable.name === 'kpi' ? 'change_failure_rate' : variables[variable.name]);
    }
    const answers = new Map<string, number>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const result = await promql(substitute(target.expr));
        expect(result.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        answers.set(`${panel.title}/${target.refId}`, Number(result[0]!.value[1]));
      }
    }
    // The status counts add up to the number of KPIs, and the breached count is the breaches in the exposition.
    const kpis = (await pipeline.get('/v1/kpis')).body.length;
    expect(['Breached', 'Met', 'No target', 'No data'].reduce((sum, title) => sum + answers.get(`${title}/A`)!, 0)).toBe(kpis);
    const text = (await pipeline.get('/v1/metrics')).body as string;
    const breachedHere = samples(text).filter((sample) => sample.name === 'kpi_status' && sample.value === 1 && sample.labels.status === 'breached' && sample.labels.team === TEAM && sample.labels.tier === 'all' && sample.labels.granularity === 'month');
    expect(answers.get('Breached/A')).toBe(breachedHere.length);
    expect(breachedHere.map((sample) => sample.labels.kpi)).toEqual(expect.arrayContaining(['change_failure_rate', 'readiness_first_pass_rate']));
  });
});
