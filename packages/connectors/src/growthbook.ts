import { z } from 'zod';
import { TEAM_PATTERN } from '@kpi/events';
import { badRequest, hmacSha256, ignored, isObject, rfc3339, safeEqual, str, tagValue, unmappable, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent, type DraftEvent } from './events.ts';
import { httpUrl, secret, team } from './schema.ts';

export const growthbookConfig = z.strictObject({
  secret,
  api_url: httpUrl,
  api_key: z.string().min(1, 'expected a GrowthBook API key (secret_...)'),
  /** GrowthBook project id -> team, for experiments without a `team:<name>` tag. */
  projects: z.record(z.string().min(1), team).default({}),
});
export type GrowthbookConfig = z.infer<typeof growthbookConfig>;

/** `X-GrowthBook-Signature: <hex HMAC-SHA256 of the raw body>` with the webhook's secret (ewhk_...). */
export function verifyGrowthbook(delivery: RawDelivery, config: GrowthbookConfig): string | undefined {
  const header = delivery.headers['x-growthbook-signature'];
  if (!header) return 'missing X-GrowthBook-Signature';
  return safeEqual(header.trim().toLowerCase(), hmacSha256(config.secret, delivery.body).toString('hex')) ? undefined : 'X-GrowthBook-Signature does not match the body';
}

export const experimentId = (id: string) => `growthbook:${id}`;

type Experiment = Record<string, unknown>;
const phaseOf = (experiment: Experiment): Record<string, unknown> => {
  const phases = Array.isArray(experiment.phases) ? experiment.phases.filter(isObject) : [];
  return phases[phases.length - 1] ?? {};
};
const metricIds = (value: unknown): string[] => (Array.isArray(value) ? value.map((entry) => (isObject(entry) ? str(entry.metricId) : str(entry))).filter((id): id is string => id !== undefined) : []);
/** Goal and guardrail metrics: `settings.goals` / `settings.guardrails` (API shape), or the legacy top-level `metrics` / `guardrails`. */
export const goalMetrics = (experiment: Experiment) => {
  const settings = isObject(experiment.settings) ? experiment.settings : {};
  return { goals: metricIds(settings.goals ?? experiment.metrics), guardrails: metricIds(settings.guardrails ?? experiment.guardrails) };
};

const tagsOf = (experiment: Experiment) => (Array.isArray(experiment.tags) ? experiment.tags.filter((tag): tag is string => typeof tag === 'string') : []);
const teamOf = (experiment: Experiment, config: GrowthbookConfig) => tagValue(tagsOf(experiment), 'team') ?? config.projects[str(experiment.project) ?? ''];

/**
 * GrowthBook event webhooks (`experiment.updated` and the status events; the payload's
 * `data.object` — or `data.current` in the legacy shape — is the experiment, and
 * `data.previous_attributes` / `data.previous` what changed): moving to `running` ->
 * experiment.started and a results pull; `running` -> `stopped` -> experiment.decided and a
 * final results pull. Ids derive from the experiment and its phase's start or end.
 */
export function mapGrowthbook(body: unknown, config: GrowthbookConfig): Mapped {
  if (!isObject(body) || !str(body.event)) return badRequest('a GrowthBook event webhook body is {event, data, ...}');
  const event = String(body.event);
  if (!event.startsWith('experiment.')) return ignored(`GrowthBook event ${JSON.stringify(event)} carries nothing to measure`);
  const data = isObject(body.data) ? body.data : {};
  const experiment = isObject(data.object) ? data.object : isObject(data.current) ? data.current : undefined;
  if (!experiment || !str(experiment.id)) return ignored(`GrowthBook event ${JSON.stringify(event)} names no experiment`);
  const previous = isObject(data.previous_attributes) ? data.previous_attributes : isObject(data.previous) ? data.previous : {};
  const status = str(experiment.status);
  const was = str(previous.status);
  const id = String(experiment.id);
  const phase = phaseOf(experiment);
  const started = status === 'running' && (was !== undefined ? was !== 'running' : event === 'experiment.started' || event === 'experiment.created');
  const stopped = status === 'stopped' && (was !== undefined ? was === 'running' : event === 'experiment.stopped');
  if (!started && !stopped) return ignored(`experiment ${id} neither started nor stopped running (status ${JSON.stringify(status ?? null)}${was ? `, was ${JSON.stringify(was)}` : ''})`);
  const team = teamOf(experiment, config);
  if (!team) return unmappable(`no team: experiment ${id} has no team:<name> tag and its project ${JSON.stringify(experiment.project ?? null)} is not in growthbook.projects`);
  if (!TEAM_PATTERN.test(team)) return unmappable(`team ${JSON.stringify(team)} of experiment ${id} is not a team slug`);
  const events: DraftEvent[] = [];
  if (started) {
    const [primary] = goalMetrics(experiment).goals;
    if (!primary) return unmappable(`experiment ${id} has no goal metric (the primary metric is the first goal)`);
    const at = rfc3339(phase.dateStarted) ?? rfc3339(experiment.dateUpdated);
    if (!at) return badRequest(`experiment ${id}: no phase dateStarted nor dateUpdated`);
    const split = Array.isArray(phase.trafficSplit) ? phase.trafficSplit.filter(isObject).map((entry) => Number(entry.weight)) : [];
    const allocation = split.length === 2 && split.every((weight) => weight >= 0) && split[0]! + split[1]! > 0 ? { control: split[0]! / (split[0]! + split[1]!), treatment: split[1]! / (split[0]! + split[1]!) } : undefined;
    const model = tagValue(tagsOf(experiment), 'model');
    events.push(
      draftEvent(
        'experiment.started',
        { experiment_id: experimentId(id), team, hypothesis_at: rfc3339(experiment.dateCreated) ?? at, primary_metric: primary, ...(model ? { model_id: model } : {}), ...(allocation ? { allocation } : {}) },
        { source: 'growthbook', id: `${id}:started:${at}`, time: at },
      ),
    );
    return { kind: 'events', events, pulls: [{ experiment: id, final: false }] };
  }
  const summary = isObject(experiment.resultSummary) ? experiment.resultSummary : {};
  const verdict = str(summary.status);
  const at = rfc3339(phase.dateEnded) ?? rfc3339(experiment.dateUpdated);
  if (!at) return badRequest(`experiment ${id}: no phase dateEnded nor dateUpdated`);
  events.push(
    draftEvent(
      'experiment.decided',
      { experiment_id: experimentId(id), decision: verdict === 'won' ? 'ship' : verdict === 'lost' ? 'rollback' : 'iterate', actionable: verdict !== 'inconclusive' },
      { source: 'growthbook', id: `${id}:stopped:${at}`, time: at },
    ),
  );
  return { kind: 'events', events, pulls: [{ experiment: id, final: true }] };
}

/** GET /api/v1/experiments/<id>/results -> `result` (ExperimentResults of the REST API). */
export type ExperimentResults = Record<string, unknown>;

/**
 * An experiment.readout from GrowthBook's results (overall row, first analysis): per arm n =
 * users, mean, variance = stddev^2; the first goal is the primary metric, guardrail metrics the
 * guardrails; `inverse` metrics are lower-is-better. Undefined when there is nothing to read yet.
 */
export function readoutFromResults(id: string, result: ExperimentResults, metrics: { goals: string[]; guardrails: string[] }, inverse: (metricId: string) => boolean): DraftEvent | undefined {
  const rows = Array.isArray(result.results) ? result.results.filter(isObject) : [];
  const overall = rows.find((row) => row.dimension === 'All' || row.dimension === '' || row.dimension === undefined) ?? rows[0];
  const updated = rfc3339(result.dateUpdated);
  if (!overall || !updated || !Array.isArray(overall.metrics)) return undefined;
  const byMetric = new Map(overall.metrics.filter(isObject).map((metric) => [String(metric.metricId), metric]));
  const arms = (metricId: string) => {
    const variations = (byMetric.get(metricId)?.variations as unknown[] | undefined)?.filter(isObject) ?? [];
    if (variations.length < 2) return undefined;
    const arm = (variation: Record<string, unknown>) => {
      const analysis = (Array.isArray(variation.analyses) ? variation.analyses.filter(isObject) : [])[0];
      if (!analysis) return undefined;
      const n = Number(variation.users ?? analysis.denominator ?? 0);
      const mean = Number(analysis.mean);
      const stddev = Number(analysis.stddev);
      return Number.isFinite(n) && Number.isFinite(mean) && Number.isFinite(stddev) ? { n: Math.max(0, Math.round(n)), mean, variance: stddev * stddev } : undefined;
    };
    const control = arm(variations[0]!);
    const treatment = arm(variations[1]!);
    return control && treatment ? { control, treatment } : undefined;
  };
  const primaryId = metrics.goals[0];
  const primary = primaryId ? arms(primaryId) : undefined;
  if (!primaryId || !primary) return undefined;
  const guardrails = metrics.guardrails.flatMap((metric) => {
    const measured = arms(metric);
    return measured ? [{ metric, higher_is_better: !inverse(metric), ...measured }] : [];
  });
  return draftEvent(
    'experiment.readout',
    { experiment_id: experimentId(id), primary: { metric: primaryId, higher_is_better: !inverse(primaryId), ...primary }, ...(guardrails.length ? { guardrails } : {}) },
    { source: 'growthbook', id: `${id}:readout:${updated}`, time: updated },
  );
}
