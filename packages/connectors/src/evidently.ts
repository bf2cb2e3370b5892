import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TEAM_PATTERN } from '@kpi/events';
import { badRequest, ignored, unmappable, verifyBearer, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent, type DraftEvent } from './events.ts';
import { token } from './schema.ts';

export const evidentlyConfig = z.strictObject({ token });
export type EvidentlyConfig = z.infer<typeof evidentlyConfig>;

export const verifyEvidently = (delivery: RawDelivery, config: EvidentlyConfig) => verifyBearer(delivery, config.token);

/**
 * Evidently's drift methods (its stat tests, by name and by the display name a default method is
 * written with): a p-value says drift below the threshold, a distance at or above it.
 */
const P_VALUE_METHODS = ['ks', 'chisquare', 'z', 'fisher_exact', 'anderson', 'cramer_von_mises', 'es', 'g_test', 'mannw', 't_test', 'empirical_mmd',
  "fisher's exact test", 'anderson-darling', 'cramer-von mises', 'epps-singleton', 'mann-whitney u-rank test'];
const DISTANCE_METHODS = ['wasserstein', 'jensenshannon', 'psi', 'kl_div', 'hellinger', 'ed', 'tvd', 'abs_text_content_drift', 'perc_text_content_drift',
  'wasserstein distance (normed)', 'jensen-shannon distance', 'kullback-leibler divergence', 'hellinger distance', 'energy-distance', 'total-variation-distance',
  'absolute text content drift', 'percentile text content drift'];

function driftedByScore(method: string, score: number, threshold: number): boolean | undefined {
  const name = method.trim().toLowerCase();
  if (name.endsWith('p_value') || P_VALUE_METHODS.includes(name)) return score < threshold;
  if (DISTANCE_METHODS.includes(name)) return score >= threshold;
  return undefined;
}

/** What the connector reads of `Snapshot.json()` (Evidently 0.7); the rest is kept and ignored. */
const snapshot = z.object({
  metrics: z.array(z.object({ config: z.looseObject({ type: z.string() }), value: z.unknown() })),
  tests: z.array(z.object({ name: z.string(), status: z.string() })).default([]),
});
const valueDrift = z.object({ column: z.string().min(1), method: z.string(), threshold: z.number() });
const VALUE_DRIFT = 'evidently:metric_v2:ValueDrift';
const DRIFT_TEST = /^Value Drift for column (.+)$/;
const query = z.object({ team: z.string().optional(), model_id: z.string().min(1).max(256).optional(), run: z.string().min(1).max(100).optional() });

/**
 * An Evidently 0.7 snapshot, posted with ?team=&model_id=[&run=]: an alert awaiting triage for each
 * drifted column (its Value Drift test failed, or without tests its score crossed the threshold)
 * and for each other failed test. One snapshot is one run: a re-post of it counts once.
 */
export function mapEvidently(body: unknown, delivery: RawDelivery): Mapped {
  const parsedQuery = query.safeParse(delivery.query);
  if (!parsedQuery.success) return badRequest(`query: ${parsedQuery.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  const { team, model_id: modelId, run } = parsedQuery.data;
  const parsed = snapshot.safeParse(body);
  if (!parsed.success) return badRequest(`not an Evidently snapshot (Snapshot.json()): ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  if (!team) return unmappable('no team: post the snapshot with ?team=<team>&model_id=<model>');
  if (!TEAM_PATTERN.test(team)) return unmappable(`team ${JSON.stringify(team)} is not a team slug`);

  const { metrics, tests } = parsed.data;
  const driftTests = new Map(tests.flatMap((test) => (DRIFT_TEST.test(test.name) ? [[DRIFT_TEST.exec(test.name)![1]!, test.status] as const] : [])));
  const drifted = new Set<string>();
  for (const metric of metrics.filter((candidate) => candidate.config.type === VALUE_DRIFT)) {
    const config = valueDrift.safeParse(metric.config);
    if (!config.success) return badRequest(`a ValueDrift metric without column, method or threshold: ${config.error.issues[0]!.path.join('.')}`);
    const { column, method, threshold } = config.data;
    const status = driftTests.get(column);
    if (status !== undefined) {
      if (status === 'FAIL') drifted.add(column);
      continue;
    }
    if (typeof metric.value !== 'number') return badRequest(`the drift score of column ${column} is not a number`);
    const byScore = driftedByScore(method, metric.value, threshold);
    if (byScore === undefined) return unmappable(`column ${column}: drift method ${JSON.stringify(method)} is neither a p-value nor a distance method; run the report with include_tests=True so its test decides`);
    if (byScore) drifted.add(column);
  }
  // A drift test without its metric in the snapshot still names its column.
  for (const [column, status] of driftTests) if (status === 'FAIL') drifted.add(column);
  const failedTests = [...new Set(tests.filter((test) => test.status === 'FAIL' && !DRIFT_TEST.test(test.name)).map((test) => test.name))];
  if (drifted.size === 0 && failedTests.length === 0) return ignored('no drifted column and no failed test');

  const runId = run ?? createHash('sha256').update(delivery.body).digest('hex');
  const time = delivery.receivedAt.toISOString();
  const alert = (key: string, name: string, labels: Record<string, string>): DraftEvent => {
    const alertId = `evidently:${runId}:${key}`;
    return draftEvent('alert.fired', { alert_id: alertId, team, name, labels, ...(modelId ? { model_id: modelId } : {}) }, { source: 'evidently', id: alertId, time });
  };
  return {
    kind: 'events',
    events: [
      ...[...drifted].sort().map((column) => alert(column, `drift:${column}`, { column })),
      ...failedTests.map((name) => alert(`test:${name}`, name, { test: name })),
    ],
  };
}
