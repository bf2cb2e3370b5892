// Test helpers shared by every package's tests: one valid example per type and an event builder.
import { randomUUID } from 'node:crypto';
import { parseEvent } from './parse.ts';
import type { DataInput, EventOf, EventType } from './schemas.ts';

const T0 = '2026-03-01T10:00:00Z';
const arm = (n: number, mean: number) => ({ n, mean, variance: 1 });

/** A minimal-but-realistic valid `data` for each event type. */
export const sampleData: { readonly [T in EventType]: DataInput<T> } = {
  'release.deployed': {
    release_id: 'rel-1',
    model_id: 'ranker',
    model_version: '1.4.0',
    team: 'search',
    tier: 1,
    environment: 'production',
    readiness_first_pass: true,
    reproducible: true,
    docs: { model_card: true, runbook: true, readout: false },
    monitoring: {
      drift_enabled: true,
      drift_alerting: true,
      features: [{ name: 'query_len', critical: true, drift_monitored: true }],
    },
    offline_metric: { name: 'ndcg@10', value: 0.42, baseline: 0.4, higher_is_better: true },
    calibration_ece: 0.03,
    slices: [{ segment: 'mobile', value: 0.41, baseline: 0.4, higher_is_better: true }],
  },
  'release.updated': { release_id: 'rel-1', readiness_first_pass: true, docs: { model_card: true, runbook: true, readout: true } },
  'release.rolled_back': { release_id: 'rel-1', model_id: 'ranker', team: 'search', reason: 'latency regression' },
  'model.evaluated': {
    evaluation_id: 'eval-1',
    model_id: 'ranker',
    team: 'search',
    tier: 1,
    release_id: 'rel-1',
    metric: 'false_positive_rate',
    higher_is_better: false,
    attribute: 'region',
    protected: true,
    groups: [
      { name: 'eu', value: 0.031, n: 5000 },
      { name: 'us', value: 0.042, n: 7000 },
    ],
  },
  'training.run_completed': { run_id: 'run-7', model_id: 'ranker', team: 'search', cost_usd: 12.5, reproducible: true },
  'incident.opened': {
    incident_id: 'inc-1',
    team: 'search',
    tier: 1,
    severity: 'sev2',
    category: 'data_quality',
    model_id: 'ranker',
    started_at: T0,
    detected_at: '2026-03-01T10:20:00Z',
  },
  'incident.updated': { incident_id: 'inc-1', severity: 'sev1' },
  'incident.mitigated': { incident_id: 'inc-1', action: 'rolled back' },
  'incident.resolved': { incident_id: 'inc-1' },
  'alert.fired': { alert_id: 'alert-1', team: 'search', model_id: 'ranker', name: 'FeatureDrift', severity: 'warning', labels: { feature: 'query_len' } },
  'alert.triaged': { alert_id: 'alert-1', team: 'search', model_id: 'ranker', actionable: true },
  'experiment.started': {
    experiment_id: 'exp-1',
    team: 'search',
    model_id: 'ranker',
    hypothesis_at: '2026-02-20T09:00:00Z',
    primary_metric: 'ctr',
    offline_delta: 0.01,
    allocation: { control: 0.5, treatment: 0.5 },
  },
  'experiment.readout': {
    experiment_id: 'exp-1',
    primary: { metric: 'ctr', higher_is_better: true, control: arm(1000, 0.1), treatment: arm(1000, 0.11) },
    guardrails: [{ metric: 'latency_ms', higher_is_better: false, control: arm(1000, 80), treatment: arm(1000, 81) }],
  },
  'experiment.decided': { experiment_id: 'exp-1', decision: 'ship', actionable: true },
  'serving.window': { model_id: 'ranker', team: 'search', tier: 1, requests: 1200, latency_p95_ms: 85, latency_p99_ms: 140, cost_usd: 0.4 },
  'dataset.arrived': { dataset: 'clicks_daily', team: 'search', expected_at: T0, sla_minutes: 60 },
  'survey.response': { team: 'search', score: 4 },
  'workitem.closed': { item_id: 'JIRA-12', team: 'search', kind: 'ml_debt' },
  'asset.reused': { asset_id: 'feature-store/query-embeddings', owner_team: 'search', team: 'ads' },
  'mentorship.recorded': { record_id: 'talk-2026-03', team: 'search', kind: 'talk' },
  'data.validated': { validation_id: 'gx:run-1:clicks_suite:clicks_daily', dataset: 'clicks_daily', team: 'search', suite: 'clicks_suite', success: false, evaluated: 12, failed: 1 },
};

export type MakeEventOptions = { id?: string; source?: string; time?: string };

/**
 * A valid event of `type` (data defaults to `sampleData[type]`; id a random UUID, source 'test',
 * time now). Validated, so a broken fixture fails loudly here rather than deep inside a test; for
 * deliberately invalid events, spread a valid one and override fields.
 */
export function makeEvent<T extends EventType>(type: T, data?: DataInput<T>, opts: MakeEventOptions = {}): EventOf<T> {
  const r = parseEvent({
    specversion: '1.0',
    id: opts.id ?? randomUUID(),
    source: opts.source ?? 'test',
    type,
    time: opts.time ?? new Date().toISOString(),
    datacontenttype: 'application/json',
    data: data ?? sampleData[type],
  });
  if (!r.ok) throw new Error(`makeEvent(${type}): ${r.error}`);
  return r.event as EventOf<T>;
}
