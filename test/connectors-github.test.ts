import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import examples from '@octokit/webhooks-examples';
import { buildApi } from '@kpi/api';
import { loadConnectorsFile } from '@kpi/connectors';
import { countEvents, eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';
import { connectorsFile, deliver, deliveries, hmacHex, metricValue } from './support/webhooks.ts';

// GitHub cannot run here: its deliveries are the example payloads of @octokit/webhooks-examples
// (the octokit/webhooks repository's recorded webhooks), adapted per case and signed as GitHub
// signs them: X-Hub-Signature-256 = sha256=<hex HMAC-SHA256 of the raw body>.
const SECRET = 'gh-webhook-secret-1';
process.env.TEST_GITHUB_WEBHOOK_SECRET = SECRET;
const REPO = 'Codertocat/Hello-World';
const CONFIG = `
github:
  secret: "\${TEST_GITHUB_WEBHOOK_SECRET}"
  environments: [production]
  repositories:
    ${REPO}: {team: ranking, tier: 1}
`;

const example = (name: string) => structuredClone((examples as unknown as { name: string; examples: any[] }[]).find((entry) => entry.name === name)!.examples[0]);

/** A deployment_status webhook of the example, for deployment `deployment` reaching `state` at `at`. */
function deploymentStatus(options: { deployment: number; status: number; at: string; version?: string; state?: string; repo?: string; payload?: Record<string, unknown> | string; task?: string }) {
  const body = example('deployment_status');
  body.deployment.id = options.deployment;
  body.deployment.created_at = options.at;
  body.deployment.task = options.task ?? 'deploy';
  // GitHub stores the payload the deployer sent; as a JSON string here, as the REST API accepts it.
  body.deployment.payload = options.payload ?? JSON.stringify({ model_id: 'hello-ranker', model_version: options.version ?? '1.0.0', readiness_first_pass: true });
  body.deployment_status.id = options.status;
  body.deployment_status.state = options.state ?? 'success';
  body.deployment_status.created_at = options.at;
  if (options.repo) {
    body.repository.full_name = options.repo;
    body.repository.name = options.repo.split('/')[1];
  }
  return JSON.stringify(body);
}

const signed = (event: string, body: string | Buffer, delivery: string, secret = SECRET) => ({ 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}` });

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ env: { KPI_CONNECTORS_FILE: connectorsFile(CONFIG) } });
});
afterAll(() => pipeline?.stop());
const { value } = kpiReader(() => pipeline);

describe('github connector', { timeout: 180_000 }, () => {
  it('turns a successful production deployment_status into release.deployed, counted in releases_delivered', async () => {
    const body = deploymentStatus({ deployment: 5001, status: 9001, at: '2026-01-05T10:00:00Z' });
    const response = await deliver(pipeline, 'github', body, signed('deployment_status', body, 'delivery-1'));
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.events).toEqual(['deployment_status:9001']);
    const delivered = await eventually(async () => {
      const row = await value('releases_delivered', 'month', '2026-01-01', 'ranking');
      return row.value === 1 ? row : undefined;
    }, 30_000, 'the release in releases_delivered');
    expect(delivered.value).toBe(1);
    // The payload's readiness fact counts; the other facts are not reported (left out, not guessed).
    // Each KPI is recomputed by its own job: wait for this one too.
    const readiness = await eventually(async () => {
      const row = await value('readiness_first_pass_rate', 'month', '2026-01-01', 'ranking');
      return row.denominator === 1 ? row : undefined;
    }, 30_000, 'readiness of the release');
    expect([readiness.value, readiness.numerator, readiness.denominator]).toEqual([1, 1, 1]);
    expect((await value('documentation_completeness', 'month', '2026-01-01', 'ranking')).denominator).toBe(0);
    const [stored] = await deliveries(pipeline, { connector: 'github', outcome: 'accepted' });
    expect(stored).toMatchObject({ delivery_id: 'delivery-1', outcome: 'accepted', events: ['deployment_status:9001'] });
  });

  it('refuses a bad signature with 401, stores nothing and counts it in /metrics', async () => {
    const before = await metricValue(pipeline, 'kpi_webhook_signature_failures_total', { connector: 'github' });
    const body = deploymentStatus({ deployment: 5002, status: 9002, at: '2026-01-06T10:00:00Z' });
    const forged = await deliver(pipeline, 'github', body, signed('deployment_status', body, 'delivery-forged', 'not-the-secret'));
    expect(forged.status).toBe(401);
    const unsigned = await deliver(pipeline, 'github', body, { 'x-github-event': 'deployment_status', 'x-github-delivery': 'delivery-unsigned' });
    expect(unsigned.status).toBe(401);
    // The body changed after signing (a proxy re-encoding it) does not pass either.
    const tampered = await deliver(pipeline, 'github', body.replace('1.0.0', '9.9.9'), signed('deployment_status', body, 'delivery-tampered'));
    expect(tampered.status).toBe(401);
    expect(await metricValue(pipeline, 'kpi_webhook_signature_failures_total', { connector: 'github' })).toBe(before + 3);
    const ids = (await deliveries(pipeline)).map((row) => row.delivery_id);
    expect(ids).not.toContain('delivery-forged');
    expect(ids).not.toContain('delivery-unsigned');
    expect(ids).not.toContain('delivery-tampered');
  });

  it('refuses a signed body that is not UTF-8 with 400 naming the byte, and stores nothing', async () => {
    const [head, tail] = deploymentStatus({ deployment: 5009, status: 9009, at: '2026-01-07T10:00:00Z', version: '1.0.0-#' }).split('#');
    const body = Buffer.concat([Buffer.from(head!), Buffer.from([0xc3, 0x28]), Buffer.from(tail!)]);
    const response = await deliver(pipeline, 'github', body, signed('deployment_status', body, 'delivery-not-utf8'));
    expect(response.status).toBe(400);
    // 0xc3 opens a two-byte sequence that 0x28 cannot continue.
    expect(response.body.message).toBe(`body is not valid UTF-8 (byte offset ${Buffer.byteLength(head!) + 1})`);
    expect((await deliveries(pipeline)).map((row) => row.delivery_id)).not.toContain('delivery-not-utf8');
  });

  it('counts a redelivery once', async () => {
    const body = deploymentStatus({ deployment: 5003, status: 9003, at: '2026-02-02T10:00:00Z', version: '3.0.0' });
    const first = await deliver(pipeline, 'github', body, signed('deployment_status', body, 'delivery-3'));
    // GitHub's "Redeliver" sends the same body under the same delivery id.
    const again = await deliver(pipeline, 'github', body, signed('deployment_status', body, 'delivery-3'));
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body.events).toEqual(first.body.events);
    await eventually(async () => ((await value('releases_delivered', 'month', '2026-02-01', 'ranking')).value === 1 ? true : undefined), 30_000, 'February release');
    await pipeline.settle();
    expect((await value('releases_delivered', 'month', '2026-02-01', 'ranking')).value).toBe(1);
    expect((await deliveries(pipeline)).filter((row) => row.delivery_id === 'delivery-3')).toHaveLength(1);
  });

  it('answers 200 ignored to what carries nothing to measure, and stores it', async () => {
    const ping = JSON.stringify(example('ping'));
    const pinged = await deliver(pipeline, 'github', ping, signed('ping', ping, 'delivery-ping'));
    expect(pinged.status).toBe(200);
    expect(pinged.body.ignored).toMatch(/ping/);
    const pending = deploymentStatus({ deployment: 5004, status: 9004, at: '2026-02-03T10:00:00Z', state: 'pending' });
    expect((await deliver(pipeline, 'github', pending, signed('deployment_status', pending, 'delivery-pending'))).body.ignored).toMatch(/not success/);
    const staging = example('deployment_status');
    staging.deployment_status.environment = 'staging';
    const stagingBody = JSON.stringify(staging);
    expect((await deliver(pipeline, 'github', stagingBody, signed('deployment_status', stagingBody, 'delivery-staging'))).body.ignored).toMatch(/not a production environment/);
    const ignored = await deliveries(pipeline, { connector: 'github', outcome: 'ignored' });
    expect(ignored.map((row) => row.delivery_id).sort()).toEqual(['delivery-pending', 'delivery-ping', 'delivery-staging']);
  });

  it('answers 422 to an unmappable delivery, keeps it, and replays it after the config is fixed', async () => {
    const body = deploymentStatus({ deployment: 6001, status: 9601, at: '2026-03-02T10:00:00Z', repo: 'acme/fraud-model', payload: { model_version: '2.1.0' } });
    const response = await deliver(pipeline, 'github', body, signed('deployment_status', body, 'delivery-unmapped'));
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(/no team.*acme\/fraud-model.*github\.repositories/);
    const [stored] = await deliveries(pipeline, { outcome: 'unmappable' });
    expect(stored).toMatchObject({ delivery_id: 'delivery-unmapped', reason: response.body.message, id: response.body.delivery });
    // Replay through the current config still fails...
    expect((await pipeline.post(`/v1/webhooks/deliveries/${stored!.id}/replay`, {}, TOKENS.admin)).status).toBe(422);
    expect((await pipeline.post(`/v1/webhooks/deliveries/${stored!.id}/replay`, {}, TOKENS.ingest)).status).toBe(403);
    // ...and succeeds once the API runs with the repository configured (a restart with the fixed file).
    const fixed = loadConnectorsFile(connectorsFile(`${CONFIG}    acme/fraud-model: {team: fraud, tier: 2}\n`));
    const restarted = await buildApi({ runtime: { ...pipeline.runtime, connectors: fixed }, tokens: pipeline.runtime.config.apiTokens! });
    try {
      const replay = await restarted.inject({ method: 'POST', url: `/v1/webhooks/deliveries/${stored!.id}/replay`, headers: { authorization: `Bearer ${TOKENS.admin}` } });
      expect(replay.statusCode, replay.body).toBe(202);
      expect(replay.json().events).toEqual(['deployment_status:9601']);
    } finally {
      await restarted.close();
    }
    const after = (await deliveries(pipeline)).find((row) => row.id === stored!.id);
    expect(after).toMatchObject({ outcome: 'accepted', attempts: 3, reason: '' });
    await eventually(async () => ((await value('releases_delivered', 'month', '2026-03-01', 'fraud')).value === 1 ? true : undefined), 30_000, 'the replayed release');
  });

  it('infers a rollback when production moves back to a version deployed there before', async () => {
    const v1 = deploymentStatus({ deployment: 7001, status: 9701, at: '2026-04-06T10:00:00Z', version: '1.0.0', payload: JSON.stringify({ model_id: 'rollback-model', model_version: '1.0.0' }) });
    const v2 = deploymentStatus({ deployment: 7002, status: 9702, at: '2026-04-07T10:00:00Z', version: '2.0.0', payload: JSON.stringify({ model_id: 'rollback-model', model_version: '2.0.0' }) });
    expect((await deliver(pipeline, 'github', v1, signed('deployment_status', v1, 'delivery-v1'))).status).toBe(202);
    expect((await deliver(pipeline, 'github', v2, signed('deployment_status', v2, 'delivery-v2'))).status).toBe(202);
    await eventually(async () => ((await value('releases_delivered', 'month', '2026-04-01', 'ranking')).value === 2 ? true : undefined), 30_000, 'two April releases');
    // A new deployment of version 1.0.0, two days after 2.0.0: not a release, a rollback of 2.0.0.
    const back = deploymentStatus({ deployment: 7003, status: 9703, at: '2026-04-09T10:00:00Z', payload: JSON.stringify({ model_id: 'rollback-model', model_version: '1.0.0' }) });
    const response = await deliver(pipeline, 'github', back, signed('deployment_status', back, 'delivery-back'));
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.events).toEqual(['deployment:7003:rollback:github:Codertocat/Hello-World:7002']);
    // change_failure_rate: 1 of the 2 April releases rolled back within 7 days; still 2 releases.
    const cfr = await eventually(async () => {
      const row = await value('change_failure_rate', 'month', '2026-04-01', 'ranking');
      return row.numerator === 1 ? row : undefined;
    }, 30_000, 'the rollback in change_failure_rate');
    expect([cfr.value, cfr.numerator, cfr.denominator]).toEqual([0.5, 1, 2]);
    expect((await value('releases_delivered', 'month', '2026-04-01', 'ranking')).value).toBe(2);
    // The same rollback redelivered maps to the same event; a deployment the tool itself calls a rollback, likewise.
    const redelivered = await deliver(pipeline, 'github', back, signed('deployment_status', back, 'delivery-back'));
    expect(redelivered.body.events).toEqual(response.body.events);
    const deployment = example('deployment');
    Object.assign(deployment.deployment, { id: 7003, task: 'rollback', created_at: '2026-04-09T09:59:00Z', payload: { model_id: 'rollback-model', model_version: '1.0.0' } });
    const deploymentBody = JSON.stringify(deployment);
    const explicit = await deliver(pipeline, 'github', deploymentBody, signed('deployment', deploymentBody, 'delivery-explicit'));
    expect(explicit.body.events).toEqual(response.body.events);
    await pipeline.settle();
    expect(await countEvents(pipeline.runtime, 'github')).toBe(6);
  });

  it('answers 404 for a connector the file does not configure', async () => {
    const response = await deliver(pipeline, 'pagerduty', '{}', {});
    expect(response.status).toBe(404);
    expect(response.body.message).toMatch(/not configured.*github/);
    expect((await deliver(pipeline, 'jenkins', '{}', {})).status).toBe(404);
  });
});
