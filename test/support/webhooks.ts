import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Routes } from '@kpi/api-contract';
import type { InputOf } from '@kpi/api-contract/client';
import { buildApi } from '@kpi/api';
import { loadConnectorsFile } from '@kpi/connectors';
import { TOKENS, type TestPipeline } from './pipeline.ts';
import type { BodyAt } from './answers.ts';

/** A KPI_CONNECTORS_FILE with this YAML text. */
export function connectorsFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kpi-connectors-')), 'connectors.yaml');
  writeFileSync(file, yaml);
  return file;
}

export const hmacHex = (secret: string, body: string | Buffer) => createHmac('sha256', secret).update(body).digest('hex');

type Outcome<S extends number> = BodyAt<'POST', '/v1/webhooks/connector', S>;
/** A webhook's answer whatever its outcome: the fields of every answer the contract declares, each present as the status says. */
export type WebhookAnswer = Partial<Outcome<200> & Outcome<202> & Outcome<400> & Outcome<422> & Outcome<503>>;

/** POSTs raw bytes to /v1/webhooks/<connector> as the tool would (no API token). */
export async function deliver(pipeline: Pick<TestPipeline, 'api'>, connector: string, body: string | Buffer, headers: Record<string, string>) {
  const response = await pipeline.api.inject({ method: 'POST', url: `/v1/webhooks/${connector}`, payload: body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.statusCode, body: response.json<WebhookAnswer>() };
}

/** The archive as an admin lists it (the typed client: rows as the contract declares them). */
export async function deliveries(pipeline: TestPipeline, query: InputOf<Routes['listWebhookDeliveries']>['query'] = {}) {
  return (await pipeline.client.admin.get('/v1/webhooks/deliveries', { query })).deliveries;
}

/** A metric's value in /metrics (0 when absent). */
export async function metricValue(pipeline: TestPipeline, name: string, labels: Record<string, string>): Promise<number> {
  const text = (await pipeline.api.inject({ method: 'GET', url: '/metrics' })).body;
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && wanted.every((label) => candidate.includes(label)));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** A stored delivery replayed by an API restarted with a fixed connectors file, on the same storage and Kafka. */
export async function replayWithConfig(pipeline: TestPipeline, yaml: string, id: string) {
  const api = await buildApi({ runtime: { ...pipeline.runtime, connectors: loadConnectorsFile(connectorsFile(yaml)) }, tokens: pipeline.runtime.config.apiTokens! });
  try {
    const response = await api.inject({ method: 'POST', url: `/v1/webhooks/deliveries/${id}/replay`, headers: { authorization: `Bearer ${TOKENS.admin}` } });
    return { status: response.statusCode, body: response.json<WebhookAnswer>() };
  } finally {
    await api.close();
  }
}
