import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latestScheduledAt, loadConnectorsFile, resolveDeployment, type ReleaseRecord } from '../src/index.ts';
import { mapEvidently } from '../src/evidently.ts';
import { mapOpenlineage } from '../src/openlineage.ts';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'connectors-')), 'connectors.yaml');
  writeFileSync(path, text);
  return path;
};

describe('KPI_CONNECTORS_FILE', () => {
  it('expands ${VAR} from the environment and applies defaults', () => {
    const config = loadConnectorsFile(file('github: {secret: "${GH_SECRET}", repositories: {acme/ranker: {team: ranking, tier: 1}}}\nmlflow: {secret: s3cret-value, tracking_uri: "http://mlflow:5000/"}\n'), { GH_SECRET: 'from-the-env' });
    expect(config.github).toEqual({ secret: 'from-the-env', environments: ['production'], repositories: { 'acme/ranker': { team: 'ranking', tier: 1 } } });
    expect(config.mlflow).toEqual({ secret: 's3cret-value', tracking_uri: 'http://mlflow:5000', production_aliases: ['production', 'champion'] });
    expect(config.pagerduty).toBeUndefined();
  });

  it('the README example is a valid file', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Inbound'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const env = Object.fromEntries([...example.matchAll(/\$\{([A-Z_]+)\}/g)].map((match) => [match[1]!, `${match[1]!.toLowerCase()}-value`]));
    const config = loadConnectorsFile(file(example), env);
    expect(Object.keys(config).sort()).toEqual(['alertmanager', 'argocd', 'cdevents', 'databricks', 'datadog', 'evidently', 'github', 'great_expectations', 'growthbook', 'jira', 'mlflow', 'openlineage', 'pagerduty', 'servicenow']);
    expect(config.servicenow?.poll_interval).toBe(60_000);
    expect(config.growthbook?.api_key).toBe('growthbook_api_key-value');
  });

  it('stops start-up naming the file and the field', () => {
    const path = file('github: {secret: long-enough-secret, repositories: {acme/ranker: {team: ranking, tier: 5}}}\n');
    expect(() => loadConnectorsFile(path, {})).toThrow(`KPI_CONNECTORS_FILE=${path}: github.repositories.acme/ranker.tier: expected 1, 2 or 3`);
    expect(() => loadConnectorsFile(file('alertmanager: {token: "${MISSING_TOKEN}"}\n'), {})).toThrow(/alertmanager\.token: environment variable MISSING_TOKEN is not set/);
    expect(() => loadConnectorsFile(file('jenkins: {token: abcdefghij}\n'), {})).toThrow(/unknown field\(s\) jenkins \(connectors: github, mlflow, argocd, pagerduty, alertmanager, growthbook, jira, datadog, servicenow, cdevents, openlineage, great_expectations, evidently, databricks\)/);
    expect(() => loadConnectorsFile(file('pagerduty: {secret: long-enough-secret, severity: {P1: critical}}\n'), {})).toThrow(/pagerduty\.severity\.P1: /);
    expect(() => loadConnectorsFile(file('github: [unclosed\n'), {})).toThrow(/not valid YAML/);
    expect(() => loadConnectorsFile(file('openlineage: {token: long-enough-token, datasets: {"s3://lake/clicks": {team: ranking, schedule: "61 6 * * *"}}}\n'), {})).toThrow(/openlineage\.datasets\.s3:\/\/lake\/clicks\.schedule: not a cron expression/);
    expect(() => loadConnectorsFile('/nonexistent/connectors.yaml', {})).toThrow(/KPI_CONNECTORS_FILE=\/nonexistent\/connectors.yaml: cannot read the file/);
  });
});

describe('rollback inference', () => {
  const release = (id: string, version: string, at: string, rolledBack: string[] = []): ReleaseRecord => ({ release_id: id, model_version: version, team: 'ranking', deployed_at: at, rolled_back_at: rolledBack });
  const deploy = (version: string, at: string, rollback?: { of?: string }) => ({
    source: 'argocd',
    ids: { deployed: `change-${at}`, rollback: `change-${at}` },
    time: at,
    release: { release_id: `argocd:ranker:${version}`, model_id: 'ranker', model_version: version, team: 'ranking', tier: 1 as const, environment: 'production' as const },
    ...(rollback ? { rollback } : {}),
  });
  const history = [release('r1', 'v1', '2026-01-01T00:00:00.000Z'), release('r2', 'v2', '2026-01-02T00:00:00.000Z'), release('r3', 'v3', '2026-01-03T00:00:00.000Z', ['2026-01-03T12:00:00.000Z'])];
  const undone = (result: ReturnType<typeof resolveDeployment>) => (result.kind === 'events' ? result.events.map((event) => `${event.type}:${String(event.data.release_id)}`) : result.kind);

  it('a new version is a release', () => {
    expect(undone(resolveDeployment(deploy('v4', '2026-01-04T00:00:00.000Z'), history))).toEqual(['release.deployed:argocd:ranker:v4']);
  });
  it('moving back rolls back every later release not already rolled back, and deploys nothing', () => {
    expect(undone(resolveDeployment(deploy('v1', '2026-01-04T00:00:00.000Z'), history))).toEqual(['release.rolled_back:r2']);
    // r3's rollback came after this change: as of then it was live.
    expect(undone(resolveDeployment(deploy('v1', '2026-01-03T06:00:00.000Z'), history))).toEqual(['release.rolled_back:r2', 'release.rolled_back:r3']);
  });
  it('the same version redelivered is the same release, not a rollback', () => {
    expect(undone(resolveDeployment(deploy('v2', '2026-01-02T00:00:00.000Z'), history))).toEqual(['release.deployed:argocd:ranker:v2']);
  });
  it('a deploy the tool calls a rollback undoes the live release, or the one it names', () => {
    expect(undone(resolveDeployment(deploy('v9', '2026-01-04T00:00:00.000Z', {}), history))).toEqual(['release.rolled_back:r2']);
    expect(undone(resolveDeployment(deploy('v9', '2026-01-04T00:00:00.000Z', { of: 'v1' }), history))).toEqual(['release.rolled_back:r1']);
  });
  it('nothing live to roll back is ignored', () => {
    expect(undone(resolveDeployment(deploy('v2', '2026-01-05T00:00:00.000Z'), [release('r2', 'v2', '2026-01-02T00:00:00.000Z'), release('r3', 'v3', '2026-01-03T00:00:00.000Z', ['2026-01-04T00:00:00.000Z'])]))).toBe('ignored');
  });
});

describe('openlineage', () => {
  it('expects a dataset at the latest time of its schedule (UTC) at or before the run ended', () => {
    expect(latestScheduledAt('0 6 * * *', '2026-05-03T06:00:00.000Z')).toBe('2026-05-03T06:00:00.000Z');
    expect(latestScheduledAt('0 6 * * *', '2026-05-03T05:59:59.999Z')).toBe('2026-05-02T06:00:00.000Z');
    expect(latestScheduledAt('30 */2 * * *', '2026-05-03T09:10:00+02:00')).toBe('2026-05-03T06:30:00.000Z');
  });
  it('refuses a body that is not a RunEvent, naming where', () => {
    const config = { token: 'x'.repeat(8), datasets: {} };
    const run = { eventType: 'COMPLETE', eventTime: '2026-05-03T07:00:00Z', producer: 'https://example.com/p', schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent', job: { namespace: 'n', name: 'j' } };
    expect(mapOpenlineage({ ...run, run: { runId: 'not-a-uuid' } }, config)).toEqual({ kind: 'bad_request', reason: 'not an OpenLineage RunEvent: /run/runId must match format "uuid"' });
    expect(mapOpenlineage({ ...run, eventTime: 'yesterday', run: { runId: '0196a3c4-8d0e-7c3b-9a51-1f2e3d4c5b6a' } }, config)).toMatchObject({ kind: 'bad_request', reason: expect.stringMatching(/\/eventTime must match format "date-time"/) });
    expect(mapOpenlineage({ job: { namespace: 'n', name: 'j' }, eventTime: run.eventTime }, config)).toMatchObject({ kind: 'ignored' });
  });
});

describe('evidently', () => {
  const delivery = (query: Record<string, string>) => ({ body: Buffer.from('{}'), headers: {}, query, receivedAt: new Date('2026-05-03T07:00:00Z') });
  const drift = (column: string, method: string, threshold: number, value: number) => ({ config: { type: 'evidently:metric_v2:ValueDrift', column, method, threshold }, value });
  const names = (mapped: ReturnType<typeof mapEvidently>) => (mapped.kind === 'events' ? mapped.events.map((event) => event.data.name) : mapped.kind);
  it('without tests, a p-value drifts below its threshold and a distance at or above it', () => {
    const snapshot = { metrics: [drift('a', 'K-S p_value', 0.05, 0.01), drift('b', 'ks', 0.05, 0.05), drift('c', 'wasserstein', 0.1, 0.1), drift('d', 'Jensen-Shannon distance', 0.1, 0.09)], tests: [] };
    expect(names(mapEvidently(snapshot, delivery({ team: 'ranking' })))).toEqual(['drift:a', 'drift:c']);
  });
  it('a column\'s Value Drift test decides over its score; other failed tests are alerts of their own', () => {
    const snapshot = { metrics: [drift('a', 'ks', 0.05, 0.01), drift('b', 'ks', 0.05, 0.9)], tests: [{ name: 'Value Drift for column a', status: 'SUCCESS' }, { name: 'Value Drift for column b', status: 'FAIL' }, { name: 'Missing values: Less 0.1', status: 'FAIL' }, { name: 'Row count', status: 'SUCCESS' }] };
    expect(names(mapEvidently(snapshot, delivery({ team: 'ranking', model_id: 'ranker', run: 'r1' })))).toEqual(['drift:b', 'Missing values: Less 0.1']);
  });
  it('needs a team, and a method it knows when there is no test', () => {
    expect(mapEvidently({ metrics: [drift('a', 'ks', 0.05, 0.01)] }, delivery({}))).toMatchObject({ kind: 'unmappable', reason: expect.stringMatching(/no team/) });
    expect(mapEvidently({ metrics: [drift('a', 'my_test', 0.05, 0.01)] }, delivery({ team: 'ranking' }))).toMatchObject({ kind: 'unmappable', reason: expect.stringMatching(/my_test/) });
    expect(mapEvidently({ metrics: [drift('a', 'ks', 0.05, 0.9)] }, delivery({ team: 'ranking' }))).toMatchObject({ kind: 'ignored' });
  });
});
