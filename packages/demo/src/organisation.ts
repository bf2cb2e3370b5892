import { makeEvent, type AnyEvent, type CustomEvent, type DataInput, type EventType } from '@kpi/events';
import { DEMO_CUSTOM_KPI } from './custom.ts';
import { Random } from './random.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface Model {
  id: string;
  team: string;
  tier: 1 | 2 | 3;
  features: { name: string; critical: boolean }[];
  /** How disciplined the owning team is: drives docs, monitoring, readiness. */
  maturity: number;
  requestsPerDay: number;
}

export interface Organisation {
  teams: { name: string; maturity: number; models: Model[]; datasets: string[] }[];
}

const TEAMS = ['ranking', 'search', 'ads', 'fraud', 'recsys', 'forecasting'];
const FEATURES = ['query_len', 'user_age_days', 'geo', 'device', 'hour', 'price', 'ctr_7d', 'session_len', 'basket_size', 'merchant_risk', 'embedding_norm', 'dwell_time'];

/** The organisation: the six named teams, or `teamCount` teams for load tests. */
export function buildOrganisation(random: Random, teamCount = TEAMS.length): Organisation {
  const names = teamCount <= TEAMS.length ? TEAMS.slice(0, teamCount) : Array.from({ length: teamCount }, (_, i) => TEAMS[i] ?? `team-${i + 1}`);
  return {
    teams: names.map((name) => {
      const maturity = random.between(0.6, 0.98);
      const models = Array.from({ length: random.int(4, 7) }, (_, i): Model => ({
        id: `${name}-${['ranker', 'scorer', 'classifier', 'forecaster', 'embedder', 'reranker', 'detector'][i]}`,
        team: name,
        tier: random.pick([1, 1, 2, 2, 2, 3] as const),
        maturity,
        requestsPerDay: Math.round(random.logNormal(200_000, 1)),
        features: Array.from({ length: random.int(4, 8) }, (_, f) => ({ name: FEATURES[(f * 5 + i) % FEATURES.length]!, critical: f < 3 })),
      }));
      return { name, maturity, models, datasets: [`${name}_events_daily`, `${name}_labels_daily`] };
    }),
  };
}

/** Builds events with ids that are stable for a seed, so a re-run of the same seed deduplicates. */
class Emitter {
  readonly events: AnyEvent[] = [];
  private counter = 0;
  constructor(private readonly seed: number) {}
  emit<T extends EventType>(type: T, at: number, data: DataInput<T>, source: string): void {
    this.events.push(makeEvent(type, data, { source, id: `demo-${this.seed}-${++this.counter}`, time: new Date(at).toISOString() }));
  }
  /** An event of the demo's custom type (valid against DEMO_CUSTOM_KPI's schema by construction). */
  emitCustom(at: number, data: CustomEvent['data'], source: string): void {
    const type = DEMO_CUSTOM_KPI.source as CustomEvent['type'];
    this.events.push({ specversion: '1.0', id: `demo-${this.seed}-${++this.counter}`, source, type, time: new Date(at).toISOString(), datacontenttype: 'application/json', data });
  }
}

const iso = (at: number) => new Date(at).toISOString();
const arm = (n: number, p: number) => ({ n, mean: p, variance: p * (1 - p) });

/** Two years (or `from`..`to`) of the organisation's life, in time order. */
export function generateHistory(options: { seed: number; from: number; to: number; teams?: number }): AnyEvent[] {
  const random = new Random(options.seed);
  const organisation = buildOrganisation(random, options.teams);
  const out = new Emitter(options.seed);
  const { from, to } = options;

  for (const team of organisation.teams) {
    for (const model of team.models) {
      releases(random, out, model, from, to);
      for (let at = from + random.exponentialMs(1 / 5); at < to; at += random.exponentialMs(1 / 5)) {
        out.emit('training.run_completed', at, { run_id: `run-${model.id}-${Math.round(at / HOUR)}`, model_id: model.id, team: model.team, cost_usd: round(random.logNormal(40 * (4 - model.tier), 0.6), 2), reproducible: random.chance(model.maturity) }, 'mlflow/training');
      }
      for (let day = from + DAY; day < to; day += DAY) {
        const requests = Math.round(model.requestsPerDay * random.between(0.8, 1.2));
        const p95 = round(random.logNormal(60 + 15 * model.tier, 0.25), 1);
        // Older gateways report no p99: those windows are left out of inference_latency_p99_ms.
        const p99 = random.chance(0.9) ? { latency_p99_ms: round(p95 * random.between(1.3, 2.2), 1) } : {};
        out.emit('serving.window', day, { model_id: model.id, team: model.team, tier: model.tier, requests, latency_p95_ms: p95, ...p99, cost_usd: round((requests / 1000) * random.between(0.01, 0.03), 2) }, 'serving/gateway');
      }
    }
    for (const dataset of team.datasets) {
      for (let day = from + DAY; day < to; day += DAY) {
        const expected = Math.floor(day / DAY) * DAY + 6 * HOUR;
        const delay = random.chance(team.maturity * 1.02) ? random.between(-30, 90) * 60_000 : random.logNormal(4 * HOUR, 0.5);
        if (expected + delay < to) out.emit('dataset.arrived', expected + delay, { dataset, team: team.name, expected_at: iso(expected), sla_minutes: 120 }, 'airflow');
        // Its checkpoint runs once it has landed; mature teams' data fails validation less often.
        const validated = expected + delay + 10 * 60_000;
        const evaluated = random.int(8, 20);
        const failed = random.chance(0.85 + 0.14 * team.maturity) ? 0 : random.int(1, 3);
        const validationId = `gx:${dataset}:${iso(expected).slice(0, 10)}`;
        if (validated < to) out.emit('data.validated', validated, { validation_id: validationId, dataset, team: team.name, suite: `${dataset}_suite`, success: failed === 0, evaluated, failed }, 'great_expectations');
      }
    }
    incidents(random, out, team.models, from, to);
    experiments(random, out, team.name, team.models, team.maturity, from, to);
    for (let at = from + random.exponentialMs(0.7); at < to; at += random.exponentialMs(0.7)) {
      const model = random.pick(team.models);
      const alertId = `alert-${model.id}-${Math.round(at / 60_000)}`;
      const name = random.pick(['FeatureDrift', 'PredictionDrift', 'LatencyHigh', 'DataFreshness']);
      out.emit('alert.fired', at, { alert_id: alertId, team: team.name, model_id: model.id, name, severity: random.pick(['warning', 'critical']), labels: { alertname: name, model_id: model.id, team: team.name } }, 'alertmanager');
      const triaged = at + random.logNormal(6 * HOUR, 0.8);
      // Alerts of the last days are still awaiting triage.
      if (triaged < to - 2 * DAY) out.emit('alert.triaged', triaged, { alert_id: alertId, team: team.name, model_id: model.id, actionable: random.chance(0.55 + 0.3 * team.maturity) }, 'pagerduty');
    }
    teamPractice(random, out, team.name, team.models, organisation.teams.map((other) => other.name), from, to);
    // The demo's custom KPI: each labelling queue reports its backlog every Monday.
    for (let week = from + 7 * DAY - (from % (7 * DAY)) + 4 * DAY; week < to; week += 7 * DAY) {
      for (const queue of team.datasets) {
        out.emitCustom(week + 9 * HOUR, { team: team.name, queue, backlog_days: round(random.logNormal(6 * (1.3 - team.maturity), 0.5), 1) }, 'label-studio');
      }
    }
    for (let at = from + random.exponentialMs(0.05); at < to; at += random.exponentialMs(0.05)) {
      out.emit('survey.response', at, { team: team.name, score: Math.min(5, Math.max(1, Math.round(random.normal(3.4 + team.maturity, 0.7)))) }, 'surveys');
    }
  }
  return out.events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

function releases(random: Random, out: Emitter, model: Model, from: number, to: number) {
  let version = 0;
  for (let at = from + random.exponentialMs(1 / 20); at < to; at += random.exponentialMs(1 / 20)) {
    version++;
    const releaseId = `${model.id}-v${version}`;
    const environment = random.chance(0.8) ? ('production' as const) : random.pick(['staging', 'shadow'] as const);
    const good = model.maturity;
    const facts = {
      readiness_first_pass: random.chance(good * 0.95),
      reproducible: random.chance(good),
      docs: { model_card: random.chance(good), runbook: random.chance(good), readout: random.chance(good * 0.95) },
      monitoring: {
        drift_enabled: random.chance(model.tier === 1 ? 0.97 : 0.85),
        drift_alerting: random.chance(model.tier === 1 ? 0.9 : 0.7),
        features: model.features.map((feature) => ({ ...feature, drift_monitored: random.chance(feature.critical ? good : 0.4) })),
      },
      offline_metric: { name: 'auc', value: round(0.8 + random.normal(0.004, 0.006), 4), baseline: 0.8, higher_is_better: true },
      calibration_ece: round(random.logNormal(0.03, 0.4), 4),
      slices: ['mobile', 'desktop', 'new_users'].map((segment) => ({ segment, value: round(0.8 * (1 + random.normal(0, 0.03)), 4), baseline: 0.8, higher_is_better: true })),
    };
    const release = { release_id: releaseId, model_id: model.id, model_version: `1.${version}.0`, team: model.team, tier: model.tier, environment };
    // Most releases come from the model registry with their facts; some from a deploy tool that
    // knows none, their facts recorded later from the registry's review tags (or, for a few, never).
    const reporting = random.pick(['registry', 'registry', 'registry', 'registry', 'registry', 'deploy-tool', 'deploy-tool', 'unreported'] as const);
    if (reporting === 'registry') {
      out.emit('release.deployed', at, { ...release, ...facts }, 'mlflow/registry');
    } else {
      out.emit('release.deployed', at, release, 'github/deployments');
      const recorded = at + random.logNormal(DAY, 0.8);
      if (reporting === 'deploy-tool' && recorded < to) out.emit('release.updated', recorded, { release_id: releaseId, ...facts }, 'mlflow/registry');
    }
    if (environment === 'production' && random.chance(0.12 * (1.5 - good))) {
      const rollbackAt = at + random.logNormal(2 * DAY, 1);
      if (rollbackAt < to) out.emit('release.rolled_back', rollbackAt, { release_id: releaseId, model_id: model.id, team: model.team, reason: 'online regression' }, 'argo/rollouts');
    }
  }
}

function incidents(random: Random, out: Emitter, models: Model[], from: number, to: number) {
  let n = 0;
  for (let start = from + random.exponentialMs(1 / 12); start < to; start += random.exponentialMs(1 / 12)) {
    const model = random.pick(models);
    const id = `INC-${model.team}-${++n}`;
    const detected = start + random.logNormal(model.tier === 1 ? 1.5 * HOUR : 6 * HOUR, 1);
    const opened = detected + random.between(5, 30) * 60_000;
    if (opened >= to) break;
    const severity = random.pick(['sev0', 'sev1', 'sev1', 'sev2', 'sev2', 'sev2', 'sev3', 'sev3'] as const);
    // A pager knows when it paged, not when the degradation began: a third of incidents learn
    // their start from the postmortem (incident.updated), some never.
    const knownStart = random.pick(['opened', 'opened', 'postmortem', 'never'] as const);
    const category = random.pick(['model', 'model', 'data_pipeline', 'data_quality', 'infrastructure', 'other'] as const);
    out.emit('incident.opened', opened, { incident_id: id, team: model.team, tier: model.tier, severity, category, model_id: model.id, ...(knownStart === 'opened' ? { started_at: iso(start) } : {}), detected_at: iso(detected) }, 'pagerduty');
    if (random.chance(0.15)) out.emit('incident.updated', opened + random.between(1, 12) * HOUR, { incident_id: id, severity: random.pick(['sev1', 'sev2'] as const) }, 'pagerduty');
    const mitigated = detected + random.logNormal(model.tier === 1 ? 10 * HOUR : 30 * HOUR, 0.9);
    if (mitigated < to) {
      // Some teams close an incident without recording a mitigation: it counts as mitigated at its resolution.
      const recordsMitigation = random.chance(0.85);
      if (recordsMitigation) out.emit('incident.mitigated', mitigated, { incident_id: id, action: random.pick(['rollback', 'feature flag', 'retrain', 'hotfix']) }, 'pagerduty');
      const resolved = recordsMitigation ? mitigated + random.logNormal(DAY, 0.7) : mitigated;
      if (resolved < to) out.emit('incident.resolved', resolved, { incident_id: id }, 'pagerduty');
      const postmortem = resolved + random.logNormal(3 * DAY, 0.5);
      if (knownStart === 'postmortem' && postmortem < to) out.emit('incident.updated', postmortem, { incident_id: id, started_at: iso(start) }, 'incident-review');
    }
  }
}

function experiments(random: Random, out: Emitter, team: string, models: Model[], maturity: number, from: number, to: number) {
  let n = 0;
  for (let hypothesis = from + random.exponentialMs(0.1); hypothesis < to; hypothesis += random.exponentialMs(0.1)) {
    const id = `EXP-${team}-${++n}`;
    const model = random.pick(models);
    const started = hypothesis + random.logNormal(5 * DAY, 0.5);
    const trueLift = random.normal(0.01, 0.03);
    const allocation = random.chance(0.8) ? { control: 0.5, treatment: 0.5 } : { control: 0.8, treatment: 0.2 };
    if (started >= to) break;
    out.emit('experiment.started', started, { experiment_id: id, team, model_id: model.id, hypothesis_at: iso(hypothesis), primary_metric: 'conversion', offline_delta: round(trueLift * 0.8 + random.normal(0, 0.01), 4), allocation }, 'growthbook');
    const users = Math.round(random.logNormal(40_000, 0.6));
    const p = random.between(0.05, 0.2);
    let readout = started + random.logNormal(14 * DAY, 0.3);
    const srmBroken = random.chance(0.05);
    for (let k = 0; k < random.int(1, 2) && readout < to; k++, readout += 7 * DAY) {
      const nControl = Math.round(users * allocation.control * (srmBroken ? 1.08 : 1 + random.normal(0, 0.003)));
      const nTreatment = Math.round(users * allocation.treatment);
      const guardrailHit = random.chance(0.1);
      out.emit(
        'experiment.readout',
        readout,
        {
          experiment_id: id,
          primary: { metric: 'conversion', higher_is_better: true, control: arm(nControl, round(p, 5)), treatment: arm(nTreatment, round(p * (1 + trueLift + random.normal(0, 0.01)), 5)) },
          guardrails: [{ metric: 'latency_ms', higher_is_better: false, control: { n: nControl, mean: 80, variance: 400 }, treatment: { n: nTreatment, mean: guardrailHit ? 84 : 80 + random.normal(0, 0.2), variance: 400 } }],
        },
        'growthbook',
      );
    }
    const decided = readout + random.logNormal(2 * DAY, 0.5);
    if (decided < to) {
      const decision = trueLift > 0.01 && !srmBroken ? 'ship' : random.pick(['iterate', 'abandon', 'rollback'] as const);
      out.emit('experiment.decided', decided, { experiment_id: id, decision, actionable: random.chance(0.5 + 0.4 * maturity) }, 'growthbook');
    }
  }
}

/**
 * The team's engineering practice: ML-debt and other work items closed, shared assets reused by
 * other teams (and by itself, which does not count as cross-team reuse), mentorship, and the
 * fairness and segment evaluations of its models.
 */
function teamPractice(random: Random, out: Emitter, team: string, models: Model[], teams: string[], from: number, to: number) {
  let n = 0;
  for (let at = from + random.exponentialMs(0.4); at < to; at += random.exponentialMs(0.4)) {
    out.emit('workitem.closed', at, { item_id: `${team.toUpperCase()}-${++n}`, team, kind: random.chance(0.35) ? 'ml_debt' : 'other' }, 'jira');
  }
  const assets = [`${team}/feature-store/embeddings`, `${team}/eval-harness`, `${team}/labelling-guidelines`];
  for (let at = from + random.exponentialMs(1 / 20); at < to; at += random.exponentialMs(1 / 20)) {
    out.emit('asset.reused', at, { asset_id: random.pick(assets), owner_team: team, team: random.chance(0.8) ? random.pick(teams) : team }, 'backstage');
  }
  for (let at = from + random.exponentialMs(1 / 10); at < to; at += random.exponentialMs(1 / 10)) {
    out.emit('mentorship.recorded', at, { record_id: `${team}-mentorship-${++n}`, team, kind: random.pick(['review', 'talk', 'mentoring'] as const) }, 'people-ops');
  }
  for (let at = from + random.exponentialMs(1 / 14); at < to; at += random.exponentialMs(1 / 14)) {
    const model = random.pick(models);
    const isProtected = random.chance(0.5);
    const attribute = isProtected ? random.pick(['age_band', 'gender']) : random.pick(['region', 'device']);
    const groups = (isProtected ? ['a', 'b', 'c'] : ['eu', 'us', 'apac']).map((name) => ({ name, value: round(0.05 + random.normal(0, 0.02), 4), n: random.int(2_000, 20_000) }));
    out.emit(
      'model.evaluated',
      at,
      { evaluation_id: `EVAL-${team}-${++n}`, model_id: model.id, team, tier: model.tier, metric: 'false_positive_rate', higher_is_better: false, attribute, protected: isProtected, groups },
      'mlflow/evaluation',
    );
  }
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
