import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEvents } from '@kpi/ingest';
import { makeEvent, type CloudEvent, type DataInput, type EventType } from '@kpi/events';
import { ALL_TEAMS, CATALOG, GRANULARITIES, applicableRule, granularitiesOf, computeValues, kpiById, nextPeriodStart, periodOf, periodStartOf, readValues, storedValuesIn, saveOverride, storeValues, storedOverrides, type Granularity, type KpiDefinition, type TargetOverride, type TierScope } from '@kpi/kpi';
import type { Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// The Grafana dashboards and provisioning in dashboards/grafana, checked against the real schema:
// every panel's SQL runs (Grafana macros and variables substituted) against a migrated ClickHouse
// database holding KPI values computed by the pipeline's own code from hand-built events, and
// what the scorecard, stat and time-series panels show is compared with what the API's
// readValues returns for the same scope.

const GRAFANA = fileURLToPath(new URL('../dashboards/grafana/', import.meta.url));
const COMPOSE = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));
// `yaml` is a dependency of @kpi/kpi, not of this package: resolve it from there.
const { parse: parseYaml } = createRequire(fileURLToPath(new URL('../packages/kpi/package.json', import.meta.url)))('yaml') as { parse(text: string): unknown };

type Json = Record<string, any>;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;
const readYaml = (path: string): Json => parseYaml(readFileSync(path, 'utf8')) as Json;

const datasourcesYaml = readYaml(join(GRAFANA, 'provisioning/datasources/clickhouse.yaml'));
const providersYaml = readYaml(join(GRAFANA, 'provisioning/dashboards/kpi.yaml'));
const dashboardFiles = readdirSync(join(GRAFANA, 'dashboards'))
  .filter((file) => file.endsWith('.json'))
  .sort();
/** Every panel, including those nested in (collapsed) rows. */
function panelsOf(dashboard: Json): Json[] {
  return (dashboard.panels as Json[]).flatMap((panel) => [panel, ...((panel.panels as Json[] | undefined) ?? [])]);
}

// The dashboards over Prometheus (GET /v1/metrics) are checked here statically; their queries run
// against a real Prometheus in outbound-prometheus.test.ts. The rest read ClickHouse.
const overPrometheus = (json: Json) => panelsOf(json).some((panel) => panel.datasource?.type === 'prometheus');
const allDashboards = dashboardFiles.map((file) => ({ file, json: readJson(join(GRAFANA, 'dashboards', file)) }));
const dashboards = allDashboards.filter(({ json }) => !overPrometheus(json));
const prometheusDashboards = allDashboards.filter(({ json }) => overPrometheus(json));
const prometheusYaml = readYaml(join(GRAFANA, 'provisioning/datasources/prometheus.yaml'));
const byUid = (uid: string) => dashboards.find((dashboard) => dashboard.json.uid === uid)!.json;

interface PanelQuery {
  dashboard: string;
  panel: Json;
  target: Json;
  sql: string;
}
const queries: PanelQuery[] = dashboards.flatMap(({ json }) =>
  panelsOf(json).flatMap((panel) => ((panel.targets as Json[] | undefined) ?? []).map((target) => ({ dashboard: json.uid as string, panel, target, sql: target.rawSql as string }))),
);
const variableQueries = dashboards.flatMap(({ json }) =>
  (json.templating.list as Json[]).filter((variable) => variable.type === 'query').map((variable) => ({ dashboard: json.uid as string, variable, sql: variable.query as string })),
);

// ---------------------------------------------------------------------------------------------
// Grafana macros and variables -> concrete SQL, the way the ClickHouse plugin expands them.

const FROM = Date.UTC(2025, 9, 1) / 1000; // 2025-10-01
const TO = Date.UTC(2026, 5, 20) / 1000; // 2026-06-20, in 2026-Q2
const NOW = new Date(TO * 1000);
const TABLE_REF = /(?<![\w.`])kpi\.(\w+)/g;

function render(sql: string, database: string, variables: Record<string, string>): string {
  const rendered = sql
    .replace(/\$__timeFilter_ms\(([^()]+)\)/g, (_, column: string) => `${column} >= fromUnixTimestamp64Milli(${FROM * 1000}) AND ${column} <= fromUnixTimestamp64Milli(${TO * 1000})`)
    .replace(/\$__timeFilter\(([^()]+)\)/g, (_, column: string) => `${column} >= toDateTime(${FROM}) AND ${column} <= toDateTime(${TO})`)
    .replace(/\$__timeInterval\(([^()]+)\)/g, (_, column: string) => `toStartOfInterval(toDateTime(${column}), INTERVAL 3600 second)`)
    .replace(/\$__fromTime_ms\b/g, `fromUnixTimestamp64Milli(${FROM * 1000})`)
    .replace(/\$__toTime_ms\b/g, `fromUnixTimestamp64Milli(${TO * 1000})`)
    .replace(/\$__fromTime\b/g, `toDateTime(${FROM})`)
    .replace(/\$__toTime\b/g, `toDateTime(${TO})`)
    .replace(/\$__interval_s\b/g, '3600')
    .replace(/\$\{(\w+)(?::(\w+))?\}|\$([A-Za-z]\w*)/g, (match, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare)!;
      const value = variables[name];
      if (value === undefined) throw new Error(`${match}: no variable ${name} on this dashboard`);
      return format === 'sqlstring' ? `'${value}'` : value;
    })
    .replace(TABLE_REF, (_, table: string) => `${database}.${table}`);
  if (rendered.includes('$')) throw new Error(`an unknown macro is left in:\n${rendered}`);
  return rendered;
}

/** Each combination of values the dashboard's variables can take in the test ('*' = All). */
function variableSets(dashboard: Json): Record<string, string>[] {
  let sets: Record<string, string>[] = [{}];
  for (const variable of dashboard.templating.list as Json[]) {
    const values =
      variable.name === 'team' ? ['search', '*'] : variable.name === 'tier' ? ['all', '1'] : variable.name === 'granularity' ? [...GRANULARITIES] : [String(variable.current?.value ?? '')];
    sets = sets.flatMap((set) => values.map((value) => ({ ...set, [variable.name]: value })));
  }
  return sets;
}

// ---------------------------------------------------------------------------------------------
// Events of 2026-Q1 and Q2 for two teams; KPI values computed from them by the pipeline's code.

let eventNo = 0;
function event<T extends EventType>(type: T, time: string, data: DataInput<T>, source = 'grafana-test'): CloudEvent {
  return makeEvent(type, data, { source, id: `e-${++eventNo}`, time });
}
const arm = (n: number, mean: number) => ({ n, mean, variance: mean * (1 - mean) });
const release = (id: string, team: string, tier: 1 | 2 | 3, at: string, readiness: boolean, model = `${team}-model`) =>
  event('release.deployed', at, {
    release_id: id,
    model_id: model,
    model_version: id,
    team,
    tier,
    environment: 'production',
    readiness_first_pass: readiness,
    reproducible: true,
    docs: { model_card: true, runbook: readiness, readout: true },
    monitoring: { drift_enabled: true, drift_alerting: readiness, features: [{ name: 'f1', critical: true, drift_monitored: readiness }] },
    offline_metric: { name: 'auc', value: readiness ? 0.8 : 0.7, baseline: 0.75, higher_is_better: true },
    calibration_ece: readiness ? 0.02 : 0.05,
  });
const opened = (id: string, team: string, tier: 1 | 2 | 3, severity: 'sev0' | 'sev1' | 'sev2' | 'sev3', category: 'model' | 'data_pipeline' | 'data_quality' | 'infrastructure' | 'other', at: string, startedAt: string, detectedAt: string) =>
  event('incident.opened', at, { incident_id: id, team, tier, severity, category, started_at: startedAt, detected_at: detectedAt });

const EVENTS: CloudEvent[] = [
  release('rel-r1', 'ranking', 1, '2026-02-10T10:00:00Z', true),
  release('rel-s1', 'search', 1, '2026-04-10T10:00:00Z', true),
  event('release.rolled_back', '2026-04-12T10:00:00Z', { release_id: 'rel-s1', model_id: 'search-model', team: 'search' }),
  release('rel-s2', 'search', 2, '2026-05-05T10:00:00Z', false, 'search-other'),
  release('rel-r2', 'ranking', 1, '2026-05-20T10:00:00Z', true),
  event('training.run_completed', '2026-02-01T00:00:00Z', { run_id: 'run-1', model_id: 'search-model', team: 'search', cost_usd: 10, reproducible: true }),
  event('training.run_completed', '2026-05-01T00:00:00Z', { run_id: 'run-2', model_id: 'search-model', team: 'search', cost_usd: 20, reproducible: true }),

  opened('inc-1', 'search', 1, 'sev0', 'model', '2026-04-02T08:00:00Z', '2026-04-01T20:00:00Z', '2026-04-02T08:00:00Z'),
  event('incident.mitigated', '2026-04-02T20:00:00Z', { incident_id: 'inc-1' }),
  opened('inc-2', 'search', 2, 'sev2', 'data_pipeline', '2026-05-10T00:00:00Z', '2026-05-09T18:00:00Z', '2026-05-10T00:00:00Z'),
  event('incident.updated', '2026-05-11T00:00:00Z', { incident_id: 'inc-2', severity: 'sev0' }),
  event('incident.updated', '2026-05-10T12:00:00Z', { incident_id: 'inc-2', severity: 'sev3', tier: 1 }),
  event('incident.mitigated', '2026-05-12T00:00:00Z', { incident_id: 'inc-2' }),
  opened('inc-3', 'ranking', 1, 'sev1', 'data_quality', '2026-02-15T00:00:00Z', '2026-02-14T00:00:00Z', '2026-02-15T00:00:00Z'),
  event('incident.updated', '2026-02-16T00:00:00Z', { incident_id: 'inc-3', category: 'model' }),
  event('incident.mitigated', '2026-02-20T00:00:00Z', { incident_id: 'inc-3' }),
  event('incident.resolved', '2026-02-21T00:00:00Z', { incident_id: 'inc-3' }),
  opened('inc-4', 'ranking', 3, 'sev3', 'infrastructure', '2026-06-01T00:00:00Z', '2026-05-31T12:00:00Z', '2026-06-01T00:00:00Z'),
  // A mitigation of an incident never opened counts nowhere.
  event('incident.mitigated', '2026-05-01T00:00:00Z', { incident_id: 'inc-99' }),
  event('alert.triaged', '2026-04-03T00:00:00Z', { alert_id: 'al-1', team: 'search', actionable: true }),
  event('alert.triaged', '2026-04-04T00:00:00Z', { alert_id: 'al-2', team: 'search', actionable: false }),
  event('alert.triaged', '2026-05-04T00:00:00Z', { alert_id: 'al-3', team: 'ranking', actionable: true }),

  event('experiment.started', '2026-01-10T00:00:00Z', { experiment_id: 'exp-3', team: 'search', hypothesis_at: '2026-01-05T00:00:00Z', primary_metric: 'ctr' }),
  event('experiment.readout', '2026-02-01T00:00:00Z', { experiment_id: 'exp-3', primary: { metric: 'ctr', control: arm(2000, 0.1), treatment: arm(2000, 0.1) } }),
  event('experiment.decided', '2026-02-05T00:00:00Z', { experiment_id: 'exp-3', decision: 'abandon', actionable: true }),
  event('experiment.started', '2026-04-01T00:00:00Z', { experiment_id: 'exp-1', team: 'search', hypothesis_at: '2026-03-20T00:00:00Z', primary_metric: 'ctr', offline_delta: 0.1 }),
  event('experiment.readout', '2026-04-20T00:00:00Z', { experiment_id: 'exp-1', primary: { metric: 'ctr', control: arm(5000, 0.1), treatment: arm(5000, 0.12) } }),
  event('experiment.decided', '2026-04-25T00:00:00Z', { experiment_id: 'exp-1', decision: 'ship', actionable: true }),
  event('experiment.started', '2026-05-01T00:00:00Z', { experiment_id: 'exp-2', team: 'ranking', hypothesis_at: '2026-04-01T00:00:00Z', primary_metric: 'ctr' }),
  event('experiment.readout', '2026-05-15T00:00:00Z', { experiment_id: 'exp-2', primary: { metric: 'ctr', control: arm(1000, 0.1), treatment: arm(1200, 0.1) } }),
  event('experiment.decided', '2026-05-20T00:00:00Z', { experiment_id: 'exp-2', decision: 'iterate', actionable: false }),

  event('serving.window', '2026-05-01T00:00:00Z', { model_id: 'search-model', team: 'search', tier: 1, requests: 1000, latency_p95_ms: 90, cost_usd: 0.5 }),
  event('serving.window', '2026-05-02T00:00:00Z', { model_id: 'ranking-model', team: 'ranking', tier: 1, requests: 3000, latency_p95_ms: 120, cost_usd: 2 }),
  event('dataset.arrived', '2026-05-03T01:00:00Z', { dataset: 'clicks', team: 'search', expected_at: '2026-05-03T00:00:00Z' }),
  event('dataset.arrived', '2026-05-03T05:00:00Z', { dataset: 'views', team: 'ranking', expected_at: '2026-05-03T00:00:00Z', sla_minutes: 60 }),
  event('data.validated', '2026-05-03T02:00:00Z', { validation_id: 'v-1', dataset: 'clicks', team: 'search', suite: 'clicks_suite', success: true, evaluated: 5, failed: 0 }),
  event('data.validated', '2026-05-04T02:00:00Z', { validation_id: 'v-2', dataset: 'views', team: 'ranking', suite: 'views_suite', success: false, evaluated: 4, failed: 1 }),
  event('survey.response', '2026-03-01T00:00:00Z', { team: 'search', score: 3 }),
  event('survey.response', '2026-05-01T00:00:00Z', { team: 'search', score: 4 }),
  event('survey.response', '2026-05-02T00:00:00Z', { team: 'ranking', score: 5 }),

  // Engineering practice, for the yearly count targets (SPEC section 5). 2026: search closes 12 ML-debt
  // items (8 in Q1, 4 in Q2) and one other item, ranking 2 ML-debt items (Q2); ranking closed one in 2025.
  ...Array.from({ length: 12 }, (_, i) => event('workitem.closed', `2026-${i < 8 ? '02' : '05'}-${String(10 + i).padStart(2, '0')}T00:00:00Z`, { item_id: `debt-s${i}`, team: 'search', kind: 'ml_debt' })),
  event('workitem.closed', '2026-05-30T00:00:00Z', { item_id: 'chore-s1', team: 'search', kind: 'other' }),
  event('workitem.closed', '2026-04-15T00:00:00Z', { item_id: 'debt-r1', team: 'ranking', kind: 'ml_debt' }),
  event('workitem.closed', '2026-06-15T00:00:00Z', { item_id: 'debt-r2', team: 'ranking', kind: 'ml_debt' }),
  event('workitem.closed', '2025-11-15T00:00:00Z', { item_id: 'debt-r0', team: 'ranking', kind: 'ml_debt' }),
  // search's embeddings reused by ranking (twice: one asset) and by search itself (not cross-team).
  event('asset.reused', '2026-03-01T00:00:00Z', { asset_id: 'embeddings', owner_team: 'search', team: 'ranking' }),
  event('asset.reused', '2026-05-01T00:00:00Z', { asset_id: 'embeddings', owner_team: 'search', team: 'ranking' }),
  event('asset.reused', '2026-05-02T00:00:00Z', { asset_id: 'ranker', owner_team: 'ranking', team: 'ranking' }),
  ...['2026-01-20', '2026-03-20', '2026-04-20', '2026-06-10'].map((day, i) => event('mentorship.recorded', `${day}T00:00:00Z`, { record_id: `m-s${i}`, team: 'search', kind: 'review' })),
  event('mentorship.recorded', '2026-05-20T00:00:00Z', { record_id: 'm-r1', team: 'ranking', kind: 'talk' }),
];


let storage: Storage;
let overrides: TargetOverride[];
beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
  await storeEvents(storage, EVENTS, 'grafana-test', 'grafana-test');
  const windows = GRANULARITIES.map((granularity) => ({ granularity, from: new Date(granularity === 'year' ? '2025-01-01T00:00:00Z' : '2025-07-01T00:00:00Z'), to: new Date('2026-07-01T00:00:00Z') }));
  await computeValues(storage, { kpis: CATALOG, windows, teams: [ALL_TEAMS, 'search', 'ranking'], now: NOW }, (values) => storeValues(storage, values, new Date()));
  // Targets set through the admin API: the scorecard must apply them as the API does.
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
  await saveOverride(storage, { team: ALL_TEAMS, kpi: 'alert_precision', op: '>=', value: 0.1 });
  await saveOverride(storage, { team: ALL_TEAMS, kpi: 'alert_precision', op: '>=', value: 0.95, granularity: 'quarter' });
  await saveOverride(storage, { team: ALL_TEAMS, kpi: 'time_to_detect_hours', op: '<=', value: 100 });
  await saveOverride(storage, { team: ALL_TEAMS, kpi: 'change_failure_rate', op: '<=', value: 0.9 });
  await pause();
  await saveOverride(storage, { team: ALL_TEAMS, kpi: 'change_failure_rate', op: '<=', value: 0.9 }, true);
  await saveOverride(storage, { team: 'search', kpi: 'stakeholder_satisfaction', op: '>=', value: 3 });
  await saveOverride(storage, { team: 'search', kpi: 'releases_delivered', op: '>=', value: 5, granularity: 'month' });
  await saveOverride(storage, { team: 'ranking', kpi: 'tech_debt_closed', op: '>=', value: 2, granularity: 'year' });
  overrides = await storedOverrides(storage);
}, 180_000);
afterAll(() => storage?.close());

async function run(sql: string): Promise<Json[]> {
  return storage.query<Json>(sql);
}
const near = (actual: unknown, expected: number | null, what: string) => {
  if (expected === null) expect(actual, what).toBeNull();
  else {
    expect(typeof actual, what).toBe('number');
    expect(actual as number, what).toBeCloseTo(expected, 9);
  }
};
/** kpi, granularity, team and tier a rendered kpi_values query reads, when it reads exactly one scope. */
function scopeOf(rendered: string) {
  const one = (pattern: RegExp) => {
    const found = [...rendered.matchAll(pattern)].map((match) => match[1]!);
    return new Set(found).size === 1 ? found[0] : undefined;
  };
  const kpi = one(/\bkpi = '(\w+)'/g);
  const granularity = one(/\bgranularity = '(\w+)'/g);
  const team = one(/\bteam = '([\w*-]+)'/g);
  const tier = one(/\btier = '(\w+)'/g);
  return kpi && granularity && team && tier ? { kpi: kpiById(kpi)!, granularity: granularity as Granularity, team, tier: tier as TierScope } : undefined;
}
/** Starts of the periods that overlap [from, to]. */
function periodStarts(granularity: Granularity, from: number, to: number): number[] {
  const starts: number[] = [];
  for (let start = periodStartOf(granularity, from); start.getTime() <= to; start = nextPeriodStart(granularity, start)) starts.push(start.getTime());
  return starts;
}
async function expected(kpi: KpiDefinition, scope: { granularity: Granularity; team: string; tier: TierScope }, instant: number) {
  const [value] = await readValues(storedValuesIn(storage), kpi, scope, [periodOf(scope.granularity, instant)], overrides);
  return value!;
}

// ---------------------------------------------------------------------------------------------

describe('Grafana provisioning', () => {
  it('provisions the compose ClickHouse as a grafana-clickhouse-datasource with uid kpi-clickhouse', () => {
    expect(datasourcesYaml.apiVersion).toBe(1);
    const [datasource, ...others] = datasourcesYaml.datasources as Json[];
    expect(others).toEqual([]);
    expect(datasource).toMatchObject({
      type: 'grafana-clickhouse-datasource',
      uid: 'kpi-clickhouse',
      jsonData: { protocol: 'http', host: 'clickhouse', port: 8123, username: 'kpi', defaultDatabase: 'kpi' },
    });
    // Interpolated by Grafana from the grafana service's environment, never written down.
    expect(datasource!.secureJsonData.password).toMatch(/^\$\{?CLICKHOUSE_PASSWORD\}?$/);
    const compose = parseYaml(readFileSync(COMPOSE, 'utf8')) as Json;
    expect(Object.keys(compose.services.grafana.environment)).toContain('CLICKHOUSE_PASSWORD');
    expect(compose.services.grafana.environment.GF_INSTALL_PLUGINS).toContain(datasource!.type);
    expect(compose.services.clickhouse.environment.CLICKHOUSE_USER).toBe(datasource!.jsonData.username);
  });

  it('provisions the Prometheus that scrapes GET /v1/metrics, its URL from the grafana service\'s PROMETHEUS_URL', () => {
    const [datasource, ...others] = prometheusYaml.datasources as Json[];
    expect(others).toEqual([]);
    expect(datasource).toMatchObject({ type: 'prometheus', uid: 'kpi-prometheus', access: 'proxy' });
    expect(datasource!.url).toMatch(/^\$\{?PROMETHEUS_URL\}?$/);
    const compose = parseYaml(readFileSync(COMPOSE, 'utf8')) as Json;
    expect(compose.services.grafana.environment.PROMETHEUS_URL).toMatch(/^\$\{PROMETHEUS_URL:-http:\/\/.+\}$/);
  });

  it('loads the dashboards directory that docker-compose mounts into the "KPI pipeline" folder', () => {
    const compose = parseYaml(readFileSync(COMPOSE, 'utf8')) as Json;
    const mounts = new Map((compose.services.grafana.volumes as string[]).map((volume) => [volume.split(':')[0], volume.split(':')[1]]));
    expect(mounts.get('./dashboards/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const [provider, ...others] = providersYaml.providers as Json[];
    expect(others).toEqual([]);
    expect(provider).toMatchObject({ type: 'file', folder: 'KPI pipeline', options: { path: mounts.get('./dashboards/grafana/dashboards') } });
    expect(provider!.options.path).toBe('/var/lib/grafana/dashboards');
  });
});

describe('Grafana dashboards (static)', () => {
  const datasourceUids = new Set((datasourcesYaml.datasources as Json[]).map((datasource) => datasource.uid as string));

  it('are four dashboards with stable, distinct uids and current schema', () => {
    expect(dashboards.map(({ json }) => json.uid).sort()).toEqual(['kpi-experiments', 'kpi-incidents', 'kpi-overview', 'kpi-team']);
    for (const { file, json } of dashboards) {
      expect(json.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(json.schemaVersion, file).toBeLessThanOrEqual(41);
      expect(json.title, file).toBeTruthy();
      expect(json.id ?? null, `${file}: a provisioned dashboard carries no database id`).toBeNull();
      const ids = panelsOf(json).map((panel) => panel.id as number);
      expect(new Set(ids).size, `${file}: panel ids are unique`).toBe(ids.length);
      for (const panel of panelsOf(json)) {
        const { x, w, h } = panel.gridPos as Json;
        expect(x + w, `${file} ${panel.title}`).toBeLessThanOrEqual(24);
        expect(h, `${file} ${panel.title}`).toBeGreaterThan(0);
      }
    }
  });

  it('every panel and query uses the provisioned ClickHouse datasource', () => {
    for (const { json } of dashboards) {
      for (const panel of panelsOf(json).filter((candidate) => candidate.type !== 'row')) {
        expect(panel.datasource, `${json.uid} ${panel.title}`).toEqual({ type: 'grafana-clickhouse-datasource', uid: expect.any(String) });
        expect(datasourceUids.has(panel.datasource.uid), `${json.uid} ${panel.title}: datasource ${panel.datasource.uid}`).toBe(true);
        expect((panel.targets as Json[]).length, `${json.uid} ${panel.title}`).toBeGreaterThan(0);
      }
    }
    expect(queries.length).toBeGreaterThan(60);
    for (const { dashboard, panel, target } of queries) {
      const what = `${dashboard} ${panel.title}`;
      expect(datasourceUids.has(target.datasource.uid), what).toBe(true);
      expect(target.datasource.type, what).toBe('grafana-clickhouse-datasource');
      expect(target.queryType, what).toBe('sql');
      expect(target.editorType, what).toBe('sql');
      // The plugin's formats: 0 time series, 1 table.
      expect(target.format, what).toBe(panel.type === 'timeseries' ? 0 : 1);
      expect(typeof target.rawSql, what).toBe('string');
    }
    for (const { dashboard, variable } of variableQueries) expect(datasourceUids.has(variable.datasource.uid), `${dashboard} $${variable.name}`).toBe(true);
  });

  it('every read of events, kpi_values and target_overrides uses FINAL', () => {
    for (const { dashboard, panel, sql } of [...queries, ...variableQueries.map((query) => ({ ...query, panel: { title: `$${query.variable.name}` } }))]) {
      const references = [...sql.matchAll(/(?<![\w.`])kpi\.(\w+)(\s+\w+)?/g)];
      expect(references.length, `${dashboard} ${panel.title}: reads the kpi database`).toBeGreaterThan(0);
      for (const [reference, , next] of references) expect(next?.trim(), `${dashboard} ${panel.title}: ${reference}`).toBe('FINAL');
    }
  });

  it('names only catalog KPIs, and the overview shows every KPI of the catalog', () => {
    const ids = new Set(CATALOG.map((kpi) => kpi.id));
    let literals = 0;
    for (const { dashboard, panel, sql } of queries) {
      const named = [
        ...[...sql.matchAll(/\bkpi\s*(?:=|!=)\s*'([^']*)'/g)].map((match) => match[1]!),
        ...[...sql.matchAll(/\bkpi\s+(?:NOT\s+)?IN\s*\(([^)]*)\)/gi)].flatMap((match) => [...match[1]!.matchAll(/'([^']*)'/g)].map((quoted) => quoted[1]!)),
        // Rows of the scorecard's catalog: (position, 'kpi', ...)
        ...[...sql.matchAll(/^\s*\(\d+, '([^']*)'/gm)].map((match) => match[1]!),
      ];
      for (const id of named) expect(ids.has(id), `${dashboard} ${panel.title}: unknown KPI '${id}'`).toBe(true);
      literals += named.length;
    }
    expect(literals).toBeGreaterThan(100);
    const overviewStats = panelsOf(byUid('kpi-overview'))
      .filter((panel) => panel.type === 'stat' && /tier = 'all'/.test(panel.targets[0].rawSql))
      .map((panel) => /\bkpi = '(\w+)'/.exec(panel.targets[0].rawSql)?.[1]);
    expect(overviewStats.filter(Boolean).sort()).toEqual([...ids].sort());
  });

  it('stat and series thresholds turn green exactly where the catalog target is met, and only where it is the same at every granularity', () => {
    const colorAt = (steps: { color: string; value: number | null }[], value: number) => steps.filter((step) => step.value === null || value >= step.value).at(-1)!.color;
    let coloured = 0;
    for (const { json } of dashboards) {
      // Panels that show a KPI's value (not a detail of it).
      const showsValue = (sql: string) => /\bkpi = '\w+'/.test(sql) && /^SELECT value$|\bvalue AS /m.test(sql);
      for (const panel of panelsOf(json).filter((candidate) => (candidate.type === 'stat' || candidate.type === 'timeseries') && showsValue(candidate.targets[0].rawSql))) {
        const sql = panel.targets[0].rawSql as string;
        const kpi = kpiById(/\bkpi = '(\w+)'/.exec(sql)![1]!)!;
        // A series for the chosen tier draws the tier-1 target (its description says so).
        const tier = (sql.includes("tier = '$tier'") ? '1' : (/\btier = '(\w+)'/.exec(sql)?.[1] ?? 'all')) as TierScope;
        // Grafana cannot vary thresholds with a variable: a target that depends on the granularity
        // (a count target, SPEC section 5) is judged in the scorecard only.
        const rules = GRANULARITIES.map((granularity) => JSON.stringify(applicableRule(kpi, { granularity, tier, team: '*' }) ?? null));
        const rule = new Set(rules).size === 1 ? applicableRule(kpi, { granularity: 'quarter', tier, team: '*' }) : undefined;
        const steps = panel.fieldConfig.defaults.thresholds.steps as { color: string; value: number | null }[];
        const what = `${json.uid} ${panel.title}`;
        if (!rule || rule.kind !== 'threshold') {
          expect(steps.map((step) => step.color), what).not.toContain('green');
          if (panel.type === 'timeseries') expect(panel.fieldConfig.defaults.custom.thresholdsStyle.mode, what).toBe('off');
          continue;
        }
        coloured++;
        const step = kpi.unit === 'count' ? 1 : 1e-6;
        expect(colorAt(steps, rule.value), what).toBe('green');
        expect(colorAt(steps, rule.op === '>=' ? rule.value - step : rule.value + step), what).toBe('red');
        expect(colorAt(steps, rule.op === '>=' ? rule.value + 1000 : rule.value - 1000), what).toBe('green');
      }
    }
    expect(coloured).toBeGreaterThan(40);
  });

  it('have a granularity variable (week, month, quarter, year; default quarter) that every period, title and target follows', () => {
    for (const { json } of dashboards) {
      const variable = (json.templating.list as Json[]).find((candidate) => candidate.name === 'granularity');
      expect(variable, json.uid).toMatchObject({ type: 'custom', query: GRANULARITIES.join(','), current: { value: 'quarter' }, includeAll: false, multi: false });
      expect(variable!.options.map((option: Json) => [option.value, option.selected]), json.uid).toEqual(GRANULARITIES.map((granularity) => [granularity, granularity === 'quarter']));
      for (const panel of panelsOf(json)) {
        const what = `${json.uid} ${panel.title}`;
        expect(panel.title, what).not.toMatch(/\b(week|month|quarter|year)\b/i);
        for (const target of (panel.targets as Json[] | undefined) ?? []) {
          // No fixed granularity, period start or period length: only the variable, quoted by Grafana.
          expect(target.rawSql, what).not.toMatch(/\bgranularity\s*=\s*'|toStartOf(Week|Month|Quarter|Year)|toMonday|INTERVAL \d+ (WEEK|MONTH|QUARTER|YEAR)/i);
          for (const [use] of (target.rawSql as string).matchAll(/\$\{?granularity\b[^}\s,)]*\}?/g)) expect(use, what).toBe('${granularity:sqlstring}');
        }
      }
    }
  });

  it("the scorecards' catalog gives each KPI's default target at every granularity as the API applies it", () => {
    const number = (text: string) => (text === 'NULL' ? null : Number(text));
    for (const { json } of dashboards) {
      for (const panel of panelsOf(json).filter((candidate) => candidate.targets?.[0]?.rawSql.includes('catalog AS ('))) {
        const sql = panel.targets[0].rawSql as string;
        expect(sql, panel.title).toContain("'position UInt8, kpi String, name String, unit String, rule String, op String, target_week Nullable(Float64), target_month Nullable(Float64), target_quarter Nullable(Float64), target_year Nullable(Float64), empty_value Nullable(Float64)'");
        const rows = [...sql.matchAll(/^\s*\(\d+, '(\w+)', '[^']*', '\w+', '(\w+)', '([<>=]*)', ((?:(?:NULL|[\d.]+), ){4})(?:NULL|[\d.]+)\)/gm)];
        expect(rows.map((row) => row[1]), `${json.uid} ${panel.title}`).toEqual(CATALOG.map((kpi) => kpi.id));
        for (const [, id, kind, op, targets] of rows) {
          const byGranularity = targets!.split(', ').slice(0, 4).map(number);
          // Columns week, month, quarter, year; a day takes the week's.
          for (const granularity of GRANULARITIES) {
            const index = Math.max(0, GRANULARITIES.indexOf(granularity) - 1);
            const rule = applicableRule(kpiById(id!)!, { granularity, tier: 'all', team: '*' });
            const what = `${json.uid} ${panel.title} ${id} ${granularity}`;
            if (rule?.kind === 'previous_period') expect([kind, op, byGranularity[index]], what).toEqual(['previous_period', rule.op, null]);
            else if (rule) expect([kind, op, byGranularity[index]], what).toEqual(['threshold', rule.op, rule.value]);
            else expect(byGranularity[index], what).toBeNull();
          }
        }
      }
    }
  });

  it('every variable a query uses is defined on its dashboard', () => {
    for (const { json } of dashboards) {
      const defined = new Set((json.templating.list as Json[]).map((variable) => variable.name as string));
      for (const panel of panelsOf(json)) {
        for (const target of (panel.targets as Json[] | undefined) ?? []) {
          for (const match of (target.rawSql as string).matchAll(/\$\{(\w+)[^}]*\}|\$([A-Za-z]\w*)/g)) {
            expect(defined.has((match[1] ?? match[2])!), `${json.uid} ${panel.title}: $${match[1] ?? match[2]}`).toBe(true);
          }
        }
      }
    }
    expect((byUid('kpi-team').templating.list as Json[]).find((variable) => variable.name === 'team')).toMatchObject({ type: 'query', datasource: { uid: 'kpi-clickhouse' } });
  });
});

describe('Grafana dashboard over Prometheus (static)', () => {
  it('is one dashboard whose every panel and query reads the chosen Prometheus datasource', () => {
    expect(prometheusDashboards.map(({ json }) => json.uid)).toEqual(['kpi-prometheus']);
    const { json } = prometheusDashboards[0]!;
    expect(json.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(json.schemaVersion).toBeLessThanOrEqual(41);
    expect(json.id ?? null).toBeNull();
    const variables = new Map((json.templating.list as Json[]).map((variable) => [variable.name as string, variable]));
    // A datasource variable: the provisioned Prometheus by default, any other Prometheus in the organisation's Grafana.
    expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: prometheusYaml.datasources[0].uid } });
    const ids = panelsOf(json).map((panel) => panel.id as number);
    expect(new Set(ids).size).toBe(ids.length);
    const exported = new Set(['kpi_value', 'kpi_target', 'kpi_sample_size', 'kpi_status']);
    for (const panel of panelsOf(json)) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect((panel.targets as Json[]).length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets as Json[]) {
        expect(target.datasource, panel.title).toEqual(panel.datasource);
        const metrics = [...(target.expr as string).matchAll(/\b(kpi_\w+)\s*\{/g)].map((match) => match[1]!);
        expect(metrics.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const metric of metrics) expect(exported.has(metric), `${panel.title}: ${metric}`).toBe(true);
        for (const [, name] of (target.expr as string).matchAll(/\$(\w+)/g)) expect(variables.has(name!), `${panel.title}: $${name}`).toBe(true);
      }
    }
    // Granularities, teams, tiers and KPIs come from the metrics themselves: a new granularity or a custom KPI shows up on its own.
    for (const name of ['granularity', 'team', 'tier', 'kpi']) expect(variables.get(name)?.definition, name).toMatch(/^label_values\(kpi_\w+(\{[^}]*\})?, \w+\)$/);
  });
});

describe('Grafana dashboards against a migrated ClickHouse', () => {
  it('reference only tables and columns of the schema', async () => {
    const tables = new Set((await run(`SELECT name FROM system.tables WHERE database = '${storage.database}'`)).map((row) => row.name as string));
    expect([...tables].sort()).toEqual(expect.arrayContaining(['events', 'kpi_values', 'target_overrides']));
    const columns = await run(`SELECT table, name FROM system.columns WHERE database = '${storage.database}'`);
    const columnsOf = (table: string) => new Set(columns.filter((row) => row.table === table).map((row) => row.name as string));
    for (const { dashboard, panel, sql } of [...queries, ...variableQueries.map((query) => ({ ...query, panel: { title: `$${query.variable.name}` } }))]) {
      for (const [, table] of sql.matchAll(TABLE_REF)) expect(tables.has(table!), `${dashboard} ${panel.title}: table kpi.${table}`).toBe(true);
      // Columns named as `table.column` (or `alias.column` for a table read directly) exist.
      for (const [, table, column] of sql.matchAll(/\b(events|kpi_values|target_overrides)\.(\w+)/g)) {
        expect(columnsOf(table!).has(column!), `${dashboard} ${panel.title}: ${table}.${column}`).toBe(true);
      }
    }
  });

  it('every panel query and variable query runs, for each value of the variables', async () => {
    for (const { json } of dashboards) {
      for (const variables of variableSets(json)) {
        for (const panel of panelsOf(json)) {
          for (const target of (panel.targets as Json[] | undefined) ?? []) {
            const rendered = render(target.rawSql as string, storage.database, variables);
            await run(rendered).catch((error: Error) => {
              throw new Error(`${json.uid} / ${panel.title} (${JSON.stringify(variables)}): ${error.message}\n${rendered}`);
            });
          }
        }
      }
    }
    for (const { dashboard, variable, sql } of variableQueries) {
      const rows = await run(render(sql, storage.database, {}));
      expect(rows.map((row) => Object.values(row)[0]), `${dashboard} $${variable.name}`).toEqual(['ranking', 'search']);
    }
  });

  it('scorecards and status counts match the API (values, targets with overrides, statuses)', async () => {
    const scopes: [string, string][] = [
      ['kpi-overview', '*'],
      ['kpi-team', 'search'],
      ['kpi-team', 'ranking'],
    ];
    const scorecards = new Map<string, Json[]>();
    for (const [uid, team] of scopes) {
      const panels = panelsOf(byUid(uid));
      const table = panels.find((panel) => panel.type === 'table' && panel.title.startsWith('Scorecard'))!;
      const counts = panels.find((panel) => panel.type === 'stat' && panel.title.startsWith('KPI status'))!;
      for (const granularity of GRANULARITIES) {
        const rows = await run(render(table.targets[0].rawSql, storage.database, { team, granularity }));
        expect(rows.map((row) => row.KPI)).toEqual(CATALOG.map((kpi) => kpi.name));
        const statuses: Record<string, number> = { met: 0, breached: 0, no_target: 0, no_data: 0 };
        for (const [index, kpi] of CATALOG.entries()) {
          const api = await expected(kpi, { granularity, team, tier: 'all' }, NOW.getTime());
          const row = rows[index]!;
          const what = `${uid} ${team} ${granularity} ${kpi.id}`;
          near(row.Value, api.value, `${what} value`);
          near(row.Target, api.target, `${what} target`);
          near(row['Previous period'], api.previous_value, `${what} previous`);
          expect(row.Status, what).toBe(api.status);
          expect(row.Unit, what).toBe(kpi.unit);
          statuses[api.status]!++;
        }
        const [count] = await run(render(counts.targets[0].rawSql, storage.database, { team, granularity }));
        expect(count, `${uid} ${team} ${granularity}`).toEqual(statuses);
        // The data exercises every status and the overrides.
        if (team === '*' && (granularity === 'quarter' || granularity === 'year')) expect(Object.values(statuses).every((n) => n > 0), `${granularity} ${JSON.stringify(statuses)}`).toBe(true);
        scorecards.set(`${team} ${granularity}`, rows);
      }
    }
    const row = (team: string, granularity: Granularity, name: string) => {
      const found = scorecards.get(`${team} ${granularity}`)!.find((candidate) => candidate.KPI === name)!;
      return { Value: found.Value, Target: found.Target, Status: found.Status, Previous: found['Previous period'] };
    };
    expect(row('*', 'quarter', 'Alert precision')).toMatchObject({ Target: 0.95 });
    expect(row('*', 'year', 'Alert precision')).toMatchObject({ Target: 0.1 });
    expect(row('*', 'quarter', 'Time to detect')).toMatchObject({ Target: 100 });
    expect(row('*', 'quarter', 'Change failure rate')).toMatchObject({ Target: 0.15 });
    // By hand, from the events (SPEC section 5): count targets per granularity, the year 4 x the quarter.
    // Production releases in 2026: ranking 2 (Feb, May), search 2 (Apr, May), none in 2025.
    expect(row('*', 'year', 'Releases delivered')).toEqual({ Value: 4, Target: 4, Status: 'met', Previous: 0 });
    expect(row('search', 'year', 'Releases delivered')).toEqual({ Value: 2, Target: 4, Status: 'breached', Previous: 0 });
    expect(row('*', 'quarter', 'Releases delivered')).toEqual({ Value: 3, Target: 1, Status: 'met', Previous: 1 });
    // No count target for a week or a month, but a team's own target for the month applies.
    expect(row('*', 'week', 'Releases delivered')).toEqual({ Value: 0, Target: null, Status: 'no_target', Previous: 0 });
    expect(row('*', 'month', 'Releases delivered')).toEqual({ Value: 0, Target: null, Status: 'no_target', Previous: 2 });
    expect(row('search', 'month', 'Releases delivered')).toEqual({ Value: 0, Target: 5, Status: 'breached', Previous: 1 });
    // ML debt closed: search 12 in 2026 (8 in Q1, 4 in Q2; its other item does not count), ranking 2 in Q2 2026 and 1 in 2025.
    expect(row('*', 'year', 'Technical debt closed')).toEqual({ Value: 14, Target: 12, Status: 'met', Previous: 1 });
    expect(row('search', 'year', 'Technical debt closed')).toEqual({ Value: 12, Target: 12, Status: 'met', Previous: 0 });
    expect(row('search', 'quarter', 'Technical debt closed')).toEqual({ Value: 4, Target: 3, Status: 'met', Previous: 8 });
    expect(row('ranking', 'quarter', 'Technical debt closed')).toEqual({ Value: 2, Target: 3, Status: 'breached', Previous: 0 });
    // ranking's own yearly target (>= 2) replaces the catalog's 12 for the year only.
    expect(row('ranking', 'year', 'Technical debt closed')).toEqual({ Value: 2, Target: 2, Status: 'met', Previous: 1 });
    // Experiments with a first readout in 2026: 3, against 12 per quarter and 48 per year.
    expect(row('*', 'year', 'Experiment throughput')).toEqual({ Value: 3, Target: 48, Status: 'breached', Previous: 0 });
    expect(row('*', 'quarter', 'Experiment throughput')).toEqual({ Value: 2, Target: 12, Status: 'breached', Previous: 1 });
    // Mentorship: search 4 records in 2026 (2 in Q2), ranking 1.
    expect(row('search', 'year', 'Mentorship contributions')).toEqual({ Value: 4, Target: 4, Status: 'met', Previous: 0 });
    expect(row('ranking', 'year', 'Mentorship contributions')).toEqual({ Value: 1, Target: 4, Status: 'breached', Previous: 0 });
    expect(row('search', 'quarter', 'Mentorship contributions')).toEqual({ Value: 2, Target: 1, Status: 'met', Previous: 2 });
    // Cross-team reuse, scoped by the owner: search's embeddings reused by ranking (once counted); ranking's ranker only by itself.
    expect(row('search', 'year', 'Cross-team reuse')).toEqual({ Value: 1, Target: 1, Status: 'met', Previous: 0 });
    expect(row('ranking', 'year', 'Cross-team reuse')).toEqual({ Value: 0, Target: 1, Status: 'breached', Previous: 0 });
    expect(row('search', 'quarter', 'Cross-team reuse')).toEqual({ Value: 0, Target: null, Status: 'no_target', Previous: 1 });
  });

  it('stat and time-series panels over kpi_values show what the API returns for their scope', async () => {
    let compared = 0;
    let points = 0;
    for (const { json } of dashboards) {
      for (const variables of variableSets(json)) {
        for (const panel of panelsOf(json).filter((candidate) => candidate.type === 'stat' || candidate.type === 'timeseries')) {
          const rendered = render(panel.targets[0].rawSql, storage.database, variables);
          const scope = scopeOf(rendered);
          const column = /\bvalue AS (`[^`]+`|\w+)/.exec(rendered)?.[1]?.replace(/`/g, '');
          // A KPI has no values at a granularity it does not offer (days of a non-daily KPI): nothing to compare.
          if (!scope || (panel.type === 'timeseries' && !column) || !granularitiesOf(scope.kpi).includes(scope.granularity)) continue;
          const rows = await run(rendered);
          const what = `${json.uid} / ${panel.title} ${JSON.stringify(variables)}`;
          if (panel.type === 'stat') {
            const api = await expected(scope.kpi, scope, NOW.getTime());
            const shown = rows.length === 0 ? panel.fieldConfig.defaults.noValue : rows[0]!.value;
            if (rows.length === 0 && api.value !== null) expect(shown, `${what}: no stored row shows the empty value`).toBe(String(api.value));
            else if (rows.length > 0) near(shown, api.value, what);
            else expect(shown, what).toBe('No data');
          } else {
            expect(Object.keys(rows[0] ?? { time: 0 })[0], `${what}: time comes first`).toBe('time');
            // Every period that overlaps the time range, the first one whole (all are stored, empty ones included).
            const periods = rows.map((row) => periodOf(scope.granularity, Date.parse(row.time as string)));
            expect(periods.map((period) => period.start.getTime()), what).toEqual(periodStarts(scope.granularity, FROM * 1000, TO * 1000));
            const api = await readValues(storedValuesIn(storage), scope.kpi, scope, periods, overrides);
            for (const [index, row] of rows.entries()) {
              near(row[column!], api[index]!.value, `${what} at ${row.time}`);
              points++;
              if ('p90' in row) near(row.p90, (api[index]!.details.p90 as number | null) ?? null, `${what} p90 at ${row.time}`);
            }
          }
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
    // The events fill several months for both teams: most series are not empty.
    expect(points).toBeGreaterThan(200);
  });

  it('incident panels over raw events apply corrections as the KPIs do', async () => {
    const panels = panelsOf(byUid('kpi-incidents'));
    const bySeverity = panels.find((panel) => panel.type === 'timeseries' && panel.title.startsWith('Incidents opened per'))!;
    const byCategory = panels.find((panel) => panel.title.endsWith('by category'))!;
    const list = panels.find((panel) => panel.type === 'table')!;
    for (const variables of variableSets(byUid('kpi-incidents'))) {
      const scope = { granularity: variables.granularity as Granularity, team: variables.team!, tier: variables.tier as TierScope };
      // Incident KPIs are not daily: no day value to compare the raw counts with.
      if (!granularitiesOf(kpiById('sev0_incidents')!).includes(scope.granularity)) continue;
      const periods = await run(render(bySeverity.targets[0].rawSql, storage.database, variables));
      for (const period of periods) {
        const sev0 = await expected(kpiById('sev0_incidents')!, scope, Date.parse(period.time as string));
        expect(period.sev0, `${JSON.stringify(variables)} ${period.time}`).toBe(sev0.value);
        expect(period.sev0 + period.sev1 + period.sev2 + period.sev3).toBe(sev0.sample_size);
      }
      if (scope.team === '*' && scope.tier === 'all') expect(periods.length, scope.granularity).toBeGreaterThan(0);
      const categories = Object.fromEntries((await run(render(byCategory.targets[0].rawSql, storage.database, variables))).map((row) => [row.Category, row.Incidents]));
      const quarterly = async (id: string) => {
        let total = 0;
        for (const start of ['2025-10-01', '2026-01-01', '2026-04-01']) total += (await expected(kpiById(id)!, { ...scope, granularity: 'quarter' }, Date.parse(start))).value!;
        return total;
      };
      expect((categories.model ?? 0) + (categories.data_pipeline ?? 0), JSON.stringify(variables)).toBe(await quarterly('model_incidents'));
      expect((categories.data_quality ?? 0) + (categories.data_pipeline ?? 0), JSON.stringify(variables)).toBe(await quarterly('data_quality_incidents'));
    }
    const incidents = await run(render(list.targets[0].rawSql, storage.database, { team: '*', tier: 'all', granularity: 'quarter' }));
    expect(incidents.map((row) => row.Incident)).toEqual(['inc-4', 'inc-2', 'inc-1', 'inc-3']);
    expect(incidents.find((row) => row.Incident === 'inc-2')).toMatchObject({ Severity: 'sev0', Tier: 1, 'TTD (h)': 6, 'TTM (h)': 48 });
    expect(incidents.find((row) => row.Incident === 'inc-3')).toMatchObject({ Category: 'model' });
  });
});
