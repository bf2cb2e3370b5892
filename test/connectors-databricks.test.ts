import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';
import { connectorsFile, deliver, hmacHex } from './support/webhooks.ts';

// Databricks workspace model registry webhooks in the documented shape, signed as Databricks signs
// (X-Databricks-Signature: hex HMAC-SHA256 of the raw body), with a local stand-in for the two
// REST endpoints the connector reads tags from (model-versions/get, registered-models/get), which
// answers only the workspace token. Releases, facts from tags, a rollback, redeliveries.
const SECRET = 'databricks-webhook-secret';
const TOKEN = 'dapi-workspace-token';
const tags = (values: Record<string, string>) => Object.entries(values).map(([key, value]) => ({ key, value }));
const REGISTRY = {
  models: { fraud: tags({ team: 'risk', tier: '1' }), orphan: [] as { key: string; value: string }[] },
  versions: {
    'fraud/1': tags({ 'kpi.readiness_first_pass': 'true', 'kpi.reproducible': 'true' }),
    'fraud/2': tags({ 'kpi.readiness_first_pass': 'false', 'kpi.reproducible': 'true' }),
    'orphan/1': [],
  } as Record<string, { key: string; value: string }[]>,
};
const reads: string[] = [];
let workspace: Server;
let pipeline: TestPipeline;

beforeAll(async () => {
  workspace = createServer((request, response) => {
    const url = new URL(request.url!, 'http://workspace');
    reads.push(`${url.pathname}?${url.searchParams}`);
    const answer = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.headers.authorization !== `Bearer ${TOKEN}`) return answer(401, { error_code: 'UNAUTHENTICATED' });
    const name = url.searchParams.get('name') ?? '';
    if (url.pathname === '/api/2.0/mlflow/registered-models/get' && name in REGISTRY.models) return answer(200, { registered_model: { name, tags: REGISTRY.models[name as keyof typeof REGISTRY.models] } });
    const version = REGISTRY.versions[`${name}/${url.searchParams.get('version')}`];
    if (url.pathname === '/api/2.0/mlflow/model-versions/get' && version) return answer(200, { model_version: { name, version: url.searchParams.get('version'), tags: version } });
    return answer(404, { error_code: 'RESOURCE_DOES_NOT_EXIST' });
  });
  await new Promise<void>((resolve) => workspace.listen(0, '127.0.0.1', resolve));
  const host = `http://127.0.0.1:${(workspace.address() as AddressInfo).port}`;
  pipeline = await startPipeline({ env: { KPI_CONNECTORS_FILE: connectorsFile(`databricks: {secret: ${SECRET}, host: "${host}", token: ${TOKEN}, production_stages: [Production]}\n`), ALERT_DEFAULT_RULES: '0' } });
}, 120_000);
afterAll(async () => {
  await pipeline?.stop();
  await new Promise((resolve) => workspace?.close(resolve));
});
const { value } = kpiReader(() => pipeline);

/** A registry webhook as Databricks posts it. */
const transition = (version: string, toStage: string, at: string, event = 'MODEL_VERSION_TRANSITIONED_STAGE', model = 'fraud') =>
  JSON.stringify({
    event,
    webhook_id: 'c5596721253c4b429368cf6f4341b88a',
    event_timestamp: Date.parse(at),
    model_name: model,
    version,
    to_stage: toStage,
    from_stage: 'None',
    text: `Registered model '${model}' version ${version} transitioned from None to ${toStage}.`,
  });
const post = (body: string, signature = hmacHex(SECRET, body)) => deliver(pipeline, 'databricks', body, { 'x-databricks-signature': signature });

describe('databricks connector', { timeout: 180_000 }, () => {
  it('a version moved to Production is a release with the facts of its tags; moving back is a rollback; redeliveries count once', async () => {
    const first = transition('1', 'Production', '2026-05-10T10:00:00Z');
    const deployed = await post(first);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(202);
    expect(deployed.body.events).toEqual(['stage:fraud:1:Production']);
    // Tags read with the workspace token, the version's then the model's.
    expect(reads).toEqual(expect.arrayContaining(['/api/2.0/mlflow/model-versions/get?name=fraud&version=1', '/api/2.0/mlflow/registered-models/get?name=fraud']));
    // Redelivered, and announced again by the _TO_PRODUCTION event of the same transition: the same event.
    expect((await post(first)).body.events).toEqual(['stage:fraud:1:Production']);
    expect((await post(transition('1', 'Production', '2026-05-10T10:00:00Z', 'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION'))).body.events).toEqual(['stage:fraud:1:Production']);
    await eventually(async () => ((await value('releases_delivered', 'month', '2026-05-01', 'risk')).value === 1 ? true : undefined), 60_000, 'the release of version 1');

    // Staging is not production.
    const staging = await post(transition('2', 'Staging', '2026-05-11T10:00:00Z'));
    expect([staging.status, staging.body.ignored]).toEqual([200, expect.stringMatching(/"Staging" is not a production stage/)]);
    expect((await post(transition('2', 'Production', '2026-05-12T10:00:00Z'))).status).toBe(202);
    await eventually(async () => ((await value('releases_delivered', 'month', '2026-05-01', 'risk')).value === 2 ? true : undefined), 60_000, 'the release of version 2');
    await pipeline.settle();
    // Readiness from kpi.readiness_first_pass: version 1 true, version 2 false -> 1 / 2 (tier 1 from the model's tag).
    expect(await value('readiness_first_pass_rate', 'month', '2026-05-01', 'risk', '1')).toMatchObject({ value: 0.5, numerator: 1, denominator: 2 });
    expect((await value('reproducibility_rate', 'month', '2026-05-01', 'risk')).value).toBe(1);

    // Version 1 back to Production a day later: version 2 is rolled back (within 7 days), no new release.
    const back = await post(transition('1', 'Production', '2026-05-13T10:00:00Z'));
    expect(back.status, JSON.stringify(back.body)).toBe(202);
    expect(back.body.events).toEqual([expect.stringMatching(/:rollback:databricks:fraud:2$/)]);
    expect((await post(transition('1', 'Production', '2026-05-13T10:00:00Z'))).body.events).toEqual(back.body.events);
    const cfr = await eventually(async () => {
      const row = await value('change_failure_rate', 'month', '2026-05-01', 'risk');
      return row.numerator === 1 ? row : undefined;
    }, 60_000, 'the rollback of version 2');
    expect(cfr).toMatchObject({ value: 0.5, numerator: 1, denominator: 2, status: 'breached' });
    await pipeline.settle();
    expect((await value('releases_delivered', 'month', '2026-05-01', 'risk')).value).toBe(2);
    const live = (await pipeline.get('/v1/releases/live?team=risk')).body.releases as { release_id: string }[];
    expect(live.map((release) => release.release_id)).toEqual(['databricks:fraud:1']);
  });

  it('a wrong signature is a 401 and not stored; a model without a team tag is a 422 kept for replay', async () => {
    const body = transition('1', 'Production', '2026-05-20T10:00:00Z');
    expect((await post(body, hmacHex('another-secret', body))).status).toBe(401);
    expect((await deliver(pipeline, 'databricks', body, {})).status).toBe(401);
    const orphan = await post(transition('1', 'Production', '2026-05-20T10:00:00Z', 'MODEL_VERSION_TRANSITIONED_STAGE', 'orphan'));
    expect([orphan.status, orphan.body.message]).toEqual([422, 'no team: neither version 1 of orphan nor the registered model has a team tag']);
    expect((await post('{"event": ')).status).toBe(400);
    const comment = await post(JSON.stringify({ event: 'COMMENT_CREATED', webhook_id: 'w', event_timestamp: 1, model_name: 'fraud', comment: 'ok' }));
    expect(comment.status).toBe(200);
  });
});
