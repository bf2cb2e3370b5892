// The single definition of every event the pipeline accepts (SPEC §3). TS types and the JSON
// Schema are both derived from these zod schemas, so the three can never drift apart.
import { TEAM_PATTERN } from '@kpi/schemas';
import { z } from 'zod';

/** Default topic names; deployments may override them, hence "default". */
export const TOPICS = {
  releases: 'ml.releases',
  incidents: 'ml.incidents',
  experiments: 'ml.experiments',
  signals: 'ml.signals',
  dlq: 'ml.dlq',
} as const;
export type TopicKey = 'releases' | 'incidents' | 'experiments' | 'signals';

/**
 * Defaults the SPEC gives for optional fields. They are deliberately NOT injected by parsing
 * (the parsed event stays what the producer sent); consumers apply them from here.
 */
export const DEFAULTS = {
  allocation: { control: 0.5, treatment: 0.5 },
  sla_minutes: 120,
  higher_is_better: true,
} as const;

// Annotations (ids for $defs, descriptions, default) live in a private registry rather than
// zod's global one, so the JSON Schema is unaffected by whatever else the process registers.
export const schemaRegistry = z.registry<{ id?: string; title?: string; description?: string; default?: unknown }>();

// Schema-level message for a domain rule; an absent field still reads "required".
const rule = (text: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? 'required' : text),
});

// ---- shared primitives ----------------------------------------------------------------------
export { TEAM_PATTERN };

/** id-like strings: release_id, model_id, metric names, ... */
const id = z.string().min(1).max(256);
/** RFC 3339 with mandatory offset (Z or ±hh:mm); zod's regex also rejects impossible dates. */
export const timestamp = z
  .iso.datetime({ offset: true, ...rule('expected an RFC 3339 timestamp with offset') })
  .register(schemaRegistry, { id: 'Timestamp' });
const team = z
  .string(rule('expected a string'))
  .regex(TEAM_PATTERN, rule(`expected a team slug matching ${TEAM_PATTERN.source}`))
  .register(schemaRegistry, { id: 'Team' });
const tier = z.literal([1, 2, 3], rule('expected 1, 2 or 3')).register(schemaRegistry, { id: 'Tier' });
const nonNegative = z.number().min(0);
const count = z.int().min(0);
const bool = z.boolean();

// Nested objects are loose too: unknown fields anywhere in `data` are kept and ignored.
const obj = z.looseObject;

const comparison = { value: z.number(), baseline: z.number(), higher_is_better: bool };
const arm = obj({ n: count, mean: z.number(), variance: nonNegative }).register(schemaRegistry, { id: 'Arm' });
const fraction = z.number().min(0).max(1);

/** What a release reports about itself; every fact is optional (SPEC §5: missing facts are left out, not guessed). */
const releaseFacts = {
  readiness_first_pass: bool.optional(),
  reproducible: bool.optional(),
  docs: obj({ model_card: bool, runbook: bool, readout: bool }).optional(),
  monitoring: obj({
    drift_enabled: bool,
    drift_alerting: bool,
    features: z.array(obj({ name: id, critical: bool, drift_monitored: bool })),
  }).optional(),
  offline_metric: obj({ name: id, ...comparison }).optional(),
  calibration_ece: nonNegative.optional(),
  slices: z.array(obj({ segment: id, ...comparison })).optional(),
};

// ---- data schemas, one per event type ---------------------------------------------------------
export const dataSchemas = {
  // ml.releases
  'release.deployed': obj({
    release_id: id,
    model_id: id,
    model_version: id,
    team,
    tier,
    environment: z.enum(['production', 'staging', 'shadow']),
    ...releaseFacts,
  }),
  // Facts a deploy tool does not know at deploy time (a readiness review, a model card written
  // later): per field, the latest `time` among the deployed and updated events carrying it wins.
  'release.updated': obj({ release_id: id, tier: tier.optional(), ...releaseFacts }),
  'release.rolled_back': obj({ release_id: id, model_id: id, team, reason: z.string().optional() }),
  'model.evaluated': obj({
    evaluation_id: id,
    model_id: id,
    team,
    tier,
    release_id: id.optional(),
    metric: id,
    higher_is_better: bool,
    attribute: id,
    protected: bool,
    groups: z.array(obj({ name: id, value: z.number(), n: count.optional() })).min(2),
  }),
  'training.run_completed': obj({ run_id: id, model_id: id, team, cost_usd: nonNegative, reproducible: bool }),

  // ml.incidents
  'incident.opened': obj({
    incident_id: id,
    team,
    tier,
    severity: z.enum(['sev0', 'sev1', 'sev2', 'sev3']),
    category: z.enum(['model', 'data_pipeline', 'data_quality', 'infrastructure', 'other']),
    model_id: id.optional(),
    // Many incident tools know only when they paged: the degradation start is optional.
    started_at: timestamp.optional(),
    detected_at: timestamp,
  }),
  // Corrections: every field but the id is optional (an empty correction is a harmless no-op).
  'incident.updated': obj({
    incident_id: id,
    severity: z.enum(['sev0', 'sev1', 'sev2', 'sev3']).optional(),
    category: z.enum(['model', 'data_pipeline', 'data_quality', 'infrastructure', 'other']).optional(),
    tier: tier.optional(),
    started_at: timestamp.optional(),
    detected_at: timestamp.optional(),
  }),
  'incident.mitigated': obj({ incident_id: id, action: z.string().optional() }),
  'incident.resolved': obj({ incident_id: id }),
  'alert.fired': obj({
    alert_id: id,
    team,
    model_id: id.optional(),
    name: id,
    severity: z.string().min(1).max(64).optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  'alert.triaged': obj({ alert_id: id, team, model_id: id.optional(), actionable: bool }),

  // ml.experiments
  'experiment.started': obj({
    experiment_id: id,
    team,
    model_id: id.optional(),
    hypothesis_at: timestamp,
    primary_metric: id,
    offline_delta: z.number().optional(),
    allocation: obj({ control: fraction, treatment: fraction })
      // 1e-9 tolerance: producers compute fractions in floating point (e.g. 0.1 + 0.9).
      .refine((a) => Math.abs(a.control + a.treatment - 1) <= 1e-9, {
        error: 'expected control + treatment to sum to 1',
      })
      .optional()
      .register(schemaRegistry, {
        description: 'Traffic split; fractions summing to 1. Absent means 0.5/0.5 (applied by consumers).',
        default: DEFAULTS.allocation,
      }),
  }),
  'experiment.readout': obj({
    experiment_id: id,
    primary: obj({
      metric: id,
      higher_is_better: bool.optional().register(schemaRegistry, {
        description: 'Absent means true (applied by consumers).',
        default: DEFAULTS.higher_is_better,
      }),
      control: arm,
      treatment: arm,
    }),
    guardrails: z.array(obj({ metric: id, higher_is_better: bool, control: arm, treatment: arm })).optional(),
  }),
  'experiment.decided': obj({
    experiment_id: id,
    decision: z.enum(['ship', 'iterate', 'rollback', 'abandon']),
    actionable: bool,
  }),

  // ml.signals
  'serving.window': obj({
    model_id: id,
    team,
    tier,
    requests: count,
    latency_p95_ms: nonNegative,
    latency_p99_ms: nonNegative.optional(),
    cost_usd: nonNegative,
  }),
  'dataset.arrived': obj({
    dataset: id,
    team,
    expected_at: timestamp,
    sla_minutes: z.number().positive().optional().register(schemaRegistry, {
      description: 'Absent means 120 (applied by consumers).',
      default: DEFAULTS.sla_minutes,
    }),
  }),
  'survey.response': obj({ team, score: z.number().min(1).max(5) }),
  'workitem.closed': obj({ item_id: id, team, kind: z.enum(['ml_debt', 'other']) }),
  'asset.reused': obj({ asset_id: id, owner_team: team, team }),
  // Team level only: no person is named in any event.
  'mentorship.recorded': obj({ record_id: id, team, kind: z.enum(['review', 'talk', 'mentoring']) }),
  // One data-quality validation run of one dataset (Great Expectations, Soda, dbt tests, ...).
  'data.validated': obj({
    validation_id: id,
    dataset: id,
    team,
    // The expectation suite or check set.
    suite: id,
    success: bool,
    // Checks run, and how many of them failed.
    evaluated: count,
    failed: count,
  }),
} satisfies Record<string, z.ZodType>;

export type DataSchemas = typeof dataSchemas;
export type EventType = keyof DataSchemas;

export const topicOfType: Record<EventType, TopicKey> = {
  'release.deployed': 'releases',
  'release.updated': 'releases',
  'release.rolled_back': 'releases',
  'model.evaluated': 'releases',
  'training.run_completed': 'releases',
  'incident.opened': 'incidents',
  'incident.updated': 'incidents',
  'incident.mitigated': 'incidents',
  'incident.resolved': 'incidents',
  'alert.fired': 'incidents',
  'alert.triaged': 'incidents',
  'experiment.started': 'experiments',
  'experiment.readout': 'experiments',
  'experiment.decided': 'experiments',
  'serving.window': 'signals',
  'dataset.arrived': 'signals',
  'survey.response': 'signals',
  'workitem.closed': 'signals',
  'asset.reused': 'signals',
  'mentorship.recorded': 'signals',
  'data.validated': 'signals',
};

export const EVENT_TYPES = Object.keys(dataSchemas) as readonly EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(dataSchemas, value);
}

// ---- CloudEvents 1.0 structured-mode envelope ---------------------------------------------------
// Loose: CloudEvents extension attributes (e.g. traceparent) are kept, like unknown data fields.
function envelope<T extends EventType>(type: T, data: DataSchemas[T]) {
  return z
    .looseObject({
      specversion: z.literal('1.0', rule('expected "1.0"')),
      id: z.string().min(1).max(128),
      source: z.string().min(1).max(256),
      type: z.literal(type),
      time: timestamp,
      datacontenttype: z.literal('application/json', rule('expected "application/json"')).optional(),
      data,
    })
    .register(schemaRegistry, { id: type });
}
// Distributive, so the union below keeps each type's own data schema.
type Envelope<T extends EventType> = T extends EventType ? ReturnType<typeof envelope<T>> : never;

const envelopes = EVENT_TYPES.map((t) => envelope(t, dataSchemas[t])) as unknown as [
  Envelope<EventType>,
  ...Envelope<EventType>[],
];

/** Any accepted event: envelope + data, discriminated on `type`. */
export const cloudEventSchema = z.discriminatedUnion('type', envelopes).register(schemaRegistry, {
  title: 'KPI pipeline event',
  description: 'CloudEvents 1.0 structured-mode JSON message value (SPEC §3).',
});

export type CloudEvent = z.infer<typeof cloudEventSchema>;
export type EventOf<T extends EventType> = Extract<CloudEvent, { type: T }>;
export type DataOf<T extends EventType> = z.output<DataSchemas[T]>;
/** What a producer may send as `data` (e.g. optional fields may be omitted). */
export type DataInput<T extends EventType> = z.input<DataSchemas[T]>;
