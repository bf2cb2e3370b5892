import type { Producer } from 'kafkajs';
import { makeEvent, sampleData, type AnyEvent, type CloudEvent } from '@kpi/events';
import type { Config } from '@kpi/config';
import { buildOrganisation, generateHistory } from './organisation.ts';
import { Random } from './random.ts';

export { generateHistory, buildOrganisation } from './organisation.ts';
export { DEMO_CUSTOM_KPI } from './custom.ts';
export { Random } from './random.ts';
/** Producing events to their topics is the bus's (re-exported for the demo's callers). */
import { produceEvents } from '@kpi/bus';

export { produceEvents };

type Topics = Config['kafka']['topics'];

/**
 * Keeps the organisation alive: every `intervalMs`, a few events happening now (serving
 * windows, triaged alerts, incidents opening and being mitigated, experiment readouts).
 */
export function startTrickle(options: { producer: Producer; topics: Topics; seed: number; intervalMs?: number; onError?: (error: unknown) => void }): { stop(): void } {
  const random = new Random(options.seed ^ Date.now());
  const organisation = buildOrganisation(new Random(options.seed));
  const models = organisation.teams.flatMap((team) => team.models);
  const open: { id: string; detected: number }[] = [];
  const firing: { alert_id: string; team: string; model_id: string }[] = [];
  let n = 0;
  const tick = () => {
    const now = Date.now();
    const id = () => `trickle-${now}-${++n}`;
    const events: CloudEvent[] = [];
    const model = random.pick(models);
    events.push(
      makeEvent('serving.window', { model_id: model.id, team: model.team, tier: model.tier, requests: Math.round(model.requestsPerDay / 8640), latency_p95_ms: Math.round(random.logNormal(60 + 15 * model.tier, 0.25)), cost_usd: Math.round(random.between(1, 4)) / 100 }, { id: id(), source: 'serving/gateway' }),
    );
    // Model monitors fire alerts; on-call triages most of them a while later, the rest wait.
    if (random.chance(0.3)) {
      const alert = { alert_id: `alert-live-${now}`, team: model.team, model_id: model.id };
      events.push(makeEvent('alert.fired', { ...alert, name: 'PredictionDrift', severity: 'warning', labels: { alertname: 'PredictionDrift', model_id: model.id } }, { id: id(), source: 'alertmanager' }));
      if (random.chance(0.7)) firing.push(alert);
    }
    if (firing.length > 20 || (firing.length > 0 && random.chance(0.2))) events.push(makeEvent('alert.triaged', { ...firing.shift()!, actionable: random.chance(0.7) }, { id: id(), source: 'pagerduty' }));
    if (random.chance(0.04)) {
      const incident = `INC-live-${now}`;
      const detected = now - random.logNormal(3_600_000, 0.8);
      open.push({ id: incident, detected });
      events.push(
        makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: incident, team: model.team, tier: model.tier, model_id: model.id, severity: random.pick(['sev1', 'sev2', 'sev3'] as const), started_at: random.chance(0.5) ? new Date(detected - random.logNormal(3_600_000, 1)).toISOString() : undefined, detected_at: new Date(detected).toISOString() }, { id: id(), source: 'pagerduty' }),
      );
    }
    if (open.length > 0 && random.chance(0.05)) events.push(makeEvent('incident.mitigated', { incident_id: open.shift()!.id }, { id: id(), source: 'pagerduty' }));
    produceEvents(options.producer, options.topics, events).catch((error) => options.onError?.(error));
  };
  const timer = setInterval(tick, options.intervalMs ?? 5_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The demo history: two years up to `now`, the same for the same seed and day. */
export function demoHistory(seed: number, now = Date.now(), teams?: number): AnyEvent[] {
  const to = Math.floor(now / 3_600_000) * 3_600_000;
  return generateHistory({ seed, from: to - 730 * 86_400_000, to, teams });
}
