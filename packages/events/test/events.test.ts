import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  DEFAULTS,
  EVENT_TYPES,
  TOPICS,
  dataSchemas,
  decodeEventMessage,
  makeEvent,
  parseEvent,
  sampleData,
  topicOfType,
  type CloudEvent,
  type EventOf,
  type EventType,
} from '../src/index.ts';

const envelope = (type: string, data: unknown, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: 'e-1',
  source: 'unit',
  type,
  time: '2026-03-01T10:00:00Z',
  data,
  ...extra,
});
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const decode = (v: unknown) => decodeEventMessage(bytes(v), 1_000_000);
/** Error string of a value expected to fail the schema. */
function schemaError(v: unknown): string {
  const r = decode(v);
  if (r.ok) throw new Error('expected a failure');
  expect(r.reason).toBe('schema');
  return r.error;
}

describe('catalogue', () => {
  it('has the 21 types, each with a data schema and a topic', () => {
    expect(EVENT_TYPES).toHaveLength(21);
    expect(Object.keys(dataSchemas).sort()).toEqual([...EVENT_TYPES].sort());
    expect(Object.keys(topicOfType).sort()).toEqual([...EVENT_TYPES].sort());
    expect(topicOfType['incident.opened']).toBe('incidents');
    expect(topicOfType['survey.response']).toBe('signals');
    expect(TOPICS[topicOfType['experiment.readout']]).toBe('ml.experiments');
  });
});

describe('valid events', () => {
  it.each(EVENT_TYPES)('%s parses', (type) => {
    const r = decode(envelope(type, sampleData[type]));
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (r.ok) expect(r.event).toEqual(envelope(type, sampleData[type]));
  });

  it('accepts Z and ±hh:mm offsets, with or without fractional seconds', () => {
    for (const time of ['2026-03-01T10:00:00Z', '2026-03-01T12:00:00+02:00', '2026-03-01T05:30:00.5-04:30', '2026-03-01T10:00:00.123456Z']) {
      expect(parseEvent(envelope('incident.resolved', { incident_id: 'i' }, { time })).ok, time).toBe(true);
    }
  });

  it('keeps unknown fields in data (nested too) and CloudEvents extension attributes', () => {
    const data = {
      ...sampleData['release.deployed'],
      future_field: { a: 1 },
      docs: { model_card: true, runbook: false, readout: true, design_doc: 'x' },
    };
    const r = parseEvent(envelope('release.deployed', data, { traceparent: '00-abc' }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.data).toMatchObject({ future_field: { a: 1 }, docs: { design_doc: 'x' } });
    expect(r.event).toHaveProperty('traceparent', '00-abc');
  });

  it('does not inject defaults (consumers apply DEFAULTS)', () => {
    const started = makeEvent('experiment.started', { experiment_id: 'x', team: 't', hypothesis_at: '2026-03-01T10:00:00Z', primary_metric: 'ctr' });
    expect(started.data).not.toHaveProperty('allocation');
    const arrived = makeEvent('dataset.arrived', { dataset: 'd', team: 't', expected_at: '2026-03-01T10:00:00Z' });
    expect(arrived.data).not.toHaveProperty('sla_minutes');
    const arm = { n: 1, mean: 0, variance: 0 };
    const readout = makeEvent('experiment.readout', { experiment_id: 'x', primary: { metric: 'm', control: arm, treatment: arm } });
    expect(readout.data.primary.higher_is_better ?? DEFAULTS.higher_is_better).toBe(true);
    expect(readout.data.primary).not.toHaveProperty('higher_is_better');
  });

  it('allocation sums to 1 within 1e-9', () => {
    const start = (allocation: unknown) => envelope('experiment.started', { ...sampleData['experiment.started'], allocation });
    expect(parseEvent(start({ control: 0.1 + 0.2, treatment: 0.7 })).ok).toBe(true);
    expect(schemaError(start({ control: 0.5, treatment: 0.6 }))).toBe('data.allocation: expected control + treatment to sum to 1');
  });

  it('makeEvent fills the envelope and rejects invalid data', () => {
    const e = makeEvent('survey.response');
    expect(e).toMatchObject({ specversion: '1.0', source: 'test', type: 'survey.response', data: { score: 4 } });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(5_000);
    expect(makeEvent('survey.response', { team: 'a', score: 1.5 }, { id: 'x', source: 's', time: '2026-01-01T00:00:00Z' })).toMatchObject({ id: 'x', source: 's', time: '2026-01-01T00:00:00Z' });
    expect(() => makeEvent('survey.response', { team: 'a', score: 6 })).toThrow(/data\.score/);
  });

  it('derives precise types', () => {
    expectTypeOf<EventOf<'incident.opened'>['data']['tier']>().toEqualTypeOf<1 | 2 | 3>();
    expectTypeOf<EventOf<'experiment.decided'>['data']['decision']>().toEqualTypeOf<'ship' | 'iterate' | 'rollback' | 'abandon'>();
    expectTypeOf<CloudEvent['type']>().toEqualTypeOf<EventType>();
  });
});

describe('failure reasons', () => {
  it('empty', () => {
    expect(decodeEventMessage(null, 100)).toMatchObject({ ok: false, reason: 'empty' });
    expect(decodeEventMessage(Buffer.alloc(0), 100)).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('oversized', () => {
    const r = decodeEventMessage(bytes(envelope('incident.resolved', { incident_id: 'i' })), 50);
    expect(r).toMatchObject({ ok: false, reason: 'oversized' });
    expect(r.ok || r.error).toMatch(/limit is 50/);
  });

  it.each([['{not json'], ['[1,2]'], ['"str"'], ['null'], ['42']])('invalid_json: %s', (text) => {
    expect(decode(text)).toMatchObject({ ok: false, reason: 'invalid_json' });
  });

  it('invalid_json on invalid UTF-8', () => {
    expect(decodeEventMessage(Buffer.from([0x7b, 0xff, 0x7d]), 100)).toMatchObject({ ok: false, reason: 'invalid_json' });
  });

  it('unknown_type names the type and lists the valid ones', () => {
    const r = decode(envelope('release.exploded', {}));
    expect(r).toMatchObject({ ok: false, reason: 'unknown_type' });
    if (r.ok) return;
    expect(r.error).toContain('type: unknown event type "release.exploded"');
    for (const t of EVENT_TYPES) expect(r.error).toContain(t);
    expect(parseEvent(envelope('x', {}))).toMatchObject({ ok: false, reason: 'unknown_type' });
  });

  it('schema errors name the field path and the rule', () => {
    const d = sampleData['release.deployed'];
    expect(schemaError(envelope('release.deployed', { ...d, tier: 4 }))).toBe('data.tier: expected 1, 2 or 3');
    expect(schemaError(envelope('incident.resolved', { incident_id: 'i' }, { time: '2026-03-01T10:00:00' }))).toBe(
      'time: expected an RFC 3339 timestamp with offset',
    );
    expect(schemaError(envelope('survey.response', { team: 'Search Team', score: 3 }))).toMatch(/^data\.team: expected a team slug/);
    expect(schemaError(envelope('incident.resolved', {}))).toBe('data.incident_id: required');
    const features = [{ name: 'f', critical: 'yes', drift_monitored: true }];
    expect(schemaError(envelope('release.deployed', { ...d, monitoring: { ...d.monitoring, features } }))).toMatch(
      /^data\.monitoring\.features\[0\]\.critical: .*expected boolean/,
    );
    expect(schemaError(envelope('incident.resolved', { incident_id: 'i' }, { specversion: '0.3' }))).toBe('specversion: expected "1.0"');
    expect(schemaError({ specversion: '1.0' })).toMatch(/type: /);
  });

  it('reports every issue, each with its path', () => {
    const r = parseEvent(envelope('serving.window', { model_id: '', team: 't', tier: 1, requests: 1.5, latency_p95_ms: -1, cost_usd: 0 }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(['data.model_id', 'data.requests', 'data.latency_p95_ms']);
    expect(r.error.split('; ')).toHaveLength(3);
  });

  it.each([
    ['non-finite numbers', 'survey.response', { team: 't', score: Number.POSITIVE_INFINITY }],
    ['score out of 1..5', 'survey.response', { team: 't', score: 0.5 }],
    ['negative variance', 'experiment.readout', { experiment_id: 'x', primary: { metric: 'm', control: { n: 1, mean: 0, variance: -1 }, treatment: { n: 1, mean: 0, variance: 0 } } }],
    ['id over 256 chars', 'incident.resolved', { incident_id: 'x'.repeat(257) }],
    ['bad severity', 'incident.updated', { incident_id: 'i', severity: 'sev9' }],
    ['timestamp inside data without offset', 'dataset.arrived', { dataset: 'd', team: 't', expected_at: '2026-03-01 10:00:00' }],
    ['impossible date', 'dataset.arrived', { dataset: 'd', team: 't', expected_at: '2026-02-30T10:00:00Z' }],
  ])('rejects %s', (_label, type, data) => {
    expect(parseEvent(envelope(type, data))).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('accepts what real tools can send: a release without facts, a correction of facts, a page without a start', () => {
    const d = sampleData['release.deployed'];
    const bare = { release_id: d.release_id, model_id: d.model_id, model_version: d.model_version, team: d.team, tier: d.tier, environment: d.environment };
    expect(parseEvent(envelope('release.deployed', bare)).ok).toBe(true);
    expect(parseEvent(envelope('release.updated', { release_id: 'r', reproducible: false })).ok).toBe(true);
    expect(parseEvent(envelope('release.updated', { release_id: 'r', docs: { model_card: true } }))).toMatchObject({ ok: false, reason: 'schema' });
    const { started_at: _dropped, ...page } = sampleData['incident.opened'];
    expect(parseEvent(envelope('incident.opened', page)).ok).toBe(true);
    expect(schemaError(envelope('incident.opened', { ...page, detected_at: undefined }))).toBe('data.detected_at: required');
  });

  it.each([
    ['an evaluation of one group', 'model.evaluated', { ...sampleData['model.evaluated'], groups: [{ name: 'eu', value: 0.1 }] }],
    ['a work item of an unknown kind', 'workitem.closed', { item_id: 'i', team: 't', kind: 'bug' }],
    ['reuse without its owner', 'asset.reused', { asset_id: 'a', team: 't' }],
    ['alert labels that are not strings', 'alert.fired', { alert_id: 'a', team: 't', name: 'n', labels: { n: 1 } }],
    ['a negative p99', 'serving.window', { ...sampleData['serving.window'], latency_p99_ms: -1 }],
  ])('rejects %s', (_label, type, data) => {
    expect(parseEvent(envelope(type, data))).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('rejects an envelope id over 128 chars', () => {
    expect(parseEvent(envelope('incident.resolved', { incident_id: 'i' }, { id: 'x'.repeat(129) }))).toMatchObject({ ok: false });
  });
});
