import { isObject } from './connector.ts';
import type { DraftEvent } from './events.ts';
import { goalMetrics, readoutFromResults, type GrowthbookConfig } from './growthbook.ts';

const TIMEOUT_MS = 10_000;

/**
 * GrowthBook's REST API (`api_url`, `Authorization: Bearer <api_key>`): an experiment's goal and
 * guardrail metrics, their direction (`inverse` metrics are lower-is-better; fact metrics are
 * `fact__...` ids) and its results, made into an experiment.readout. Any failure throws: the
 * worker's job is retried with backoff.
 */
export function growthbookApi(config: GrowthbookConfig, fetchImpl: typeof fetch = fetch) {
  const inverse = new Map<string, boolean>();
  async function get(path: string): Promise<Record<string, unknown>> {
    const response = await fetchImpl(`${config.api_url}/api/v1/${path}`, { headers: { authorization: `Bearer ${config.api_key}`, accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) throw new Error(`GrowthBook API GET /api/v1/${path}: HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }
  async function isInverse(metricId: string): Promise<boolean> {
    const known = inverse.get(metricId);
    if (known !== undefined) return known;
    const fact = metricId.startsWith('fact__');
    const body = await get(`${fact ? 'fact-metrics' : 'metrics'}/${encodeURIComponent(metricId)}`);
    const metric = body[fact ? 'factMetric' : 'metric'];
    const value = isObject(metric) && metric.inverse === true;
    inverse.set(metricId, value);
    return value;
  }
  return {
    /** The experiment's current results as a readout; undefined while GrowthBook has none for its goal metric. */
    async readout(id: string): Promise<DraftEvent | undefined> {
      const [experimentBody, resultsBody] = await Promise.all([get(`experiments/${encodeURIComponent(id)}`), get(`experiments/${encodeURIComponent(id)}/results`)]);
      const experiment = isObject(experimentBody.experiment) ? experimentBody.experiment : {};
      const result = isObject(resultsBody.result) ? resultsBody.result : undefined;
      if (!result) return undefined;
      const metrics = goalMetrics(experiment);
      const directions = new Map<string, boolean>();
      for (const metricId of [...metrics.goals.slice(0, 1), ...metrics.guardrails]) directions.set(metricId, await isInverse(metricId));
      return readoutFromResults(id, result, metrics, (metricId) => directions.get(metricId) ?? false);
    },
  };
}
