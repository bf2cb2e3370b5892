import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestPipeline } from './pipeline.ts';
import { TOKENS } from './pipeline.ts';

/** A KPI_CONNECTORS_FILE with this YAML text. */
export function connectorsFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kpi-connectors-')), 'connectors.yaml');
  writeFileSync(file, yaml);
  return file;
}

export const hmacHex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

/** POSTs raw bytes to /v1/webhooks/<connector> as the tool would (no API token). */
export async function deliver(pipeline: Pick<TestPipeline, 'api'>, connector: string, body: string, headers: Record<string, string>) {
  const response = await pipeline.api.inject({ method: 'POST', url: `/v1/webhooks/${connector}`, payload: body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.statusCode, body: response.json() as any };
}

/** The archive as an admin lists it. */
export async function deliveries(pipeline: TestPipeline, query = '') {
  const response = await pipeline.get(`/v1/webhooks/deliveries${query ? `?${query}` : ''}`, TOKENS.admin);
  if (response.status !== 200) throw new Error(`GET /v1/webhooks/deliveries: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.deliveries as { id: string; connector: string; delivery_id: string; outcome: string; reason: string; events: string[]; attempts: number }[];
}

/** A metric's value in /metrics (0 when absent). */
export async function metricValue(pipeline: TestPipeline, name: string, labels: Record<string, string>): Promise<number> {
  const text = (await pipeline.api.inject({ method: 'GET', url: '/metrics' })).body;
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && wanted.every((label) => candidate.includes(label)));
  return line ? Number(line.split(' ').pop()) : 0;
}
