import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { kpiById, periodOf } from '@kpi/kpi';
import {
  parseRule, planNotifications, redactReceiver, step, timersOf, LEASE_INTERVALS, RESOLVED_RESEND_MS,
  type AlertInstance, type AlertRule, type GroupState, type Notification, type Observation, type Silence,
} from '../src/index.ts';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();
const period = periodOf('month', T0);
const breached: Observation = { kind: 'value', value: 2, target: 0, status: 'breached', forecast: null, period };
const met: Observation = { kind: 'value', value: 0, target: 0, status: 'met', forecast: null, period };
const INTERVAL_MS = 60_000;
const ROUTING_KEY = 'R0123456789abcdef0123456789ABCDE';

// Alertmanager's api/v2/openapi.yaml, definitions postableAlerts / postableAlert / alert / labelSet,
// as JSON Schema (Swagger 2.0 definitions are JSON Schema draft 4 subsets).
const labelSet = { type: 'object', additionalProperties: { type: 'string' } };
const postableAlerts = {
  type: 'array',
  items: {
    type: 'object',
    allOf: [
      { type: 'object', properties: { startsAt: { type: 'string', format: 'date-time' }, endsAt: { type: 'string', format: 'date-time' }, annotations: labelSet } },
      { type: 'object', properties: { labels: labelSet, generatorURL: { type: 'string', format: 'uri' } }, required: ['labels'] },
    ],
    // Nothing beyond the definition's properties.
    unevaluatedProperties: false,
  },
};
const ajv = new Ajv2019({ allErrors: true });
addFormats.default(ajv);
const validatePostable = ajv.compile(postableAlerts);

// Microsoft's Adaptive Cards library parses a card as Teams does, reporting what a 1.4 host cannot show.
const AdaptiveCards = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as typeof import('adaptivecards');
function adaptiveCardProblems(card: unknown): string[] {
  const context = new AdaptiveCards.SerializationContext(AdaptiveCards.Versions.v1_4);
  new AdaptiveCards.AdaptiveCard().parse(card, context);
  return Array.from({ length: context.eventCount }, (_, index) => context.getEventAt(index).message);
}

function ruleWith(receivers: unknown[], extra: Record<string, unknown> = {}): AlertRule {
  return parseRule({ name: 'r', kpi: 'sev0_incidents', scope: 'each_team', for: '0s', severity: 'critical', group_wait: '0s', group_interval: '1m', repeat_interval: '1h', receivers, ...extra });
}

/** Evaluations of one rule over time: instances stepped per team, notifications planned. */
function evaluations(rule: AlertRule) {
  const kpi = kpiById(rule.kpi)!;
  const instances = new Map<string, AlertInstance>();
  let groups = new Map<string, GroupState>();
  return {
    instances,
    evaluate(seconds: number, observations: Record<string, Observation>, options: { rules?: AlertRule[]; silences?: Silence[] } = {}): Notification[] {
      for (const [team, observation] of Object.entries(observations)) {
        const next = step({ rule, kpi, teamScope: team, externalUrl: 'http://kpi.local' }, instances.get(team), observation, at(seconds)).next;
        if (next) instances.set(team, next);
      }
      const rules = options.rules ?? [rule];
      const plan = planNotifications({
        rules: rules.map((r) => ({ rule: r, receivers: r.receivers, timers: timersOf(r) })),
        instances: [...instances.values()],
        groups,
        silences: options.silences ?? [],
        now: at(seconds),
        externalUrl: 'http://kpi.local',
        evaluationIntervalMs: INTERVAL_MS,
      });
      groups = new Map(plan.groups.map((group) => [group.id, group]));
      return plan.notifications;
    },
  };
}

describe('alertmanager receiver: alert state pushed at every evaluation', () => {
  const rule = ruleWith([{ type: 'alertmanager', url: 'http://am.example:9093/' }], { scope: 'team', team: 'ranking', labels: { page: 'yes' }, description: 'Sev0 incidents of the ranking team' });

  it('sends every firing alert at every evaluation with a lease of three intervals, and a resolution for five minutes', () => {
    const run = evaluations(rule);
    const pushes: { seconds: number; body: any[] }[] = [];
    const evaluate = (seconds: number, observation: Observation) => {
      const notifications = run.evaluate(seconds, { ranking: observation });
      expect(notifications.length).toBeLessThanOrEqual(1);
      for (const notification of notifications) {
        expect(notification.snapshot).toBe(true);
        const body = JSON.parse(notification.body) as any[];
        expect(validatePostable(body), JSON.stringify(validatePostable.errors)).toBe(true);
        pushes.push({ seconds, body });
      }
    };
    // The schema refuses what Alertmanager would.
    for (const bad of [[{}], [{ labels: { a: 1 } }], [{ labels: {}, startsAt: 'yesterday' }], [{ labels: {}, generatorURL: 'not a uri' }], [{ labels: {}, fingerprint: 'f' }]]) expect(validatePostable(bad), JSON.stringify(bad)).toBe(false);
    evaluate(0, breached);
    const fingerprint = run.instances.get('ranking')!.fingerprint;
    for (const seconds of [60, 120, 150]) evaluate(seconds, breached);
    expect(pushes.map((push) => push.seconds)).toEqual([0, 60, 120, 150]);
    const [first] = pushes[0]!.body;
    expect(first).toEqual({
      labels: { alertname: 'r', kpi: 'sev0_incidents', team: 'ranking', tier: 'all', granularity: 'month', severity: 'critical', page: 'yes' },
      annotations: {
        summary: 'Sev0 incidents is 2 for ranking in 2026-11; target 0',
        description: 'Sev0 incidents of the ranking team',
        dashboard_url: 'http://kpi.local/?view=kpi&kpi=sev0_incidents&granularity=month&team=ranking&tier=all&period=2026-11-01',
      },
      startsAt: iso(0),
      endsAt: new Date(T0 + LEASE_INTERVALS * INTERVAL_MS).toISOString(),
      generatorURL: 'http://kpi.local/?view=kpi&kpi=sev0_incidents&granularity=month&team=ranking&tier=all&period=2026-11-01',
    });
    // The same alert each time: startsAt fixed, endsAt three intervals after each evaluation.
    for (const { seconds, body } of pushes) expect(body.map((alert) => [alert.startsAt, alert.endsAt])).toEqual([[iso(0), new Date(T0 + seconds * 1000 + 3 * INTERVAL_MS).toISOString()]]);

    // Resolved at 200: re-sent with endsAt = 200 at every evaluation for 5 minutes, then no more.
    for (const seconds of [200, 260, 440, 499, 500, 560]) evaluate(seconds, met);
    const after = pushes.filter((push) => push.seconds >= 200);
    expect(after.map((push) => push.seconds)).toEqual([200, 260, 440, 499]);
    expect(RESOLVED_RESEND_MS).toBe(300_000);
    for (const { body } of after) expect(body).toMatchObject([{ startsAt: iso(0), endsAt: iso(200), labels: { alertname: 'r', team: 'ranking' } }]);
    expect(run.instances.get('ranking')!.fingerprint).toBe(fingerprint);
  });

  it('is not held back by silences of the pipeline (the receiving Alertmanager has its own), and resolves a removed rule\'s alerts', () => {
    const run = evaluations(rule);
    const silence: Silence = {
      id: 's1', matchers: [{ name: 'team', value: 'ranking', op: '=' }], starts_at: iso(0), ends_at: iso(3600),
      created_by: 't', comment: '', created_at: iso(0), updated_at: iso(0),
    };
    expect(run.evaluate(0, { ranking: breached }, { silences: [silence] })).toHaveLength(1);
    // The rule is removed while firing: its alert is pushed as resolved (endsAt = when it went) for 5 minutes.
    const [resolved] = run.evaluate(60, {}, { rules: [] });
    expect(JSON.parse(resolved!.body)).toMatchObject([{ startsAt: iso(0), endsAt: iso(60) }]);
    expect(run.evaluate(400, {}, { rules: [] })).toEqual([]);
  });
});

describe('pagerduty receiver: Events API v2, one alert per event', () => {
  const rule = ruleWith([{ type: 'pagerduty', routing_key: ROUTING_KEY }]);

  it('triggers per alert with dedup_key = fingerprint and the rule\'s severity, re-triggers on repeat, resolves with the same key', () => {
    const run = evaluations(rule);
    const sent = run.evaluate(0, { ranking: breached, search: breached });
    expect(sent).toHaveLength(2);
    const events = sent.map((notification) => JSON.parse(notification.body));
    const ranking = run.instances.get('ranking')!;
    const event = events.find((candidate) => candidate.dedup_key === ranking.fingerprint);
    expect(event).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: ranking.fingerprint,
      payload: {
        summary: 'Sev0 incidents is 2 for ranking in 2026-11; target 0',
        source: 'kpi-pipeline/ranking',
        severity: 'critical',
        timestamp: iso(0),
        component: 'sev0_incidents',
        group: 'ranking',
        class: 'r',
        custom_details: expect.objectContaining({ kpi: 'sev0_incidents', team: 'ranking', tier: 'all', granularity: 'month', value: 2, target: 0, dashboard_url: ranking.dashboard_url }),
      },
      client: 'KPI pipeline',
      client_url: 'http://kpi.local',
      links: [{ href: ranking.dashboard_url, text: 'KPI dashboard' }],
    });
    expect(new Set(events.map((candidate) => candidate.dedup_key))).toEqual(new Set([ranking.fingerprint, run.instances.get('search')!.fingerprint]));
    // Each alert is a group of its own: search resolving notifies only search.
    expect(run.evaluate(120, { ranking: breached, search: met }).map((notification) => JSON.parse(notification.body))).toEqual([
      { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: run.instances.get('search')!.fingerprint },
    ]);
    expect(run.evaluate(3600, { ranking: breached, search: met }).map((notification) => JSON.parse(notification.body))).toMatchObject([{ event_action: 'trigger', dedup_key: ranking.fingerprint }]);
  });

  it('maps severities warning and info to PagerDuty\'s', () => {
    for (const severity of ['warning', 'info'] as const) {
      const [notification] = evaluations(ruleWith([{ type: 'pagerduty', routing_key: ROUTING_KEY }], { severity })).evaluate(0, { ranking: breached });
      expect(JSON.parse(notification!.body).payload.severity).toBe(severity);
    }
  });
});

describe('teams receiver: an Adaptive Card 1.4', () => {
  it('shows KPI, team, value against target, state and a dashboard link per alert; a 1.4 host parses it without complaint', () => {
    const run = evaluations(ruleWith([{ type: 'teams', url: 'https://prod.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=secret' }]));
    const [firing] = run.evaluate(0, { ranking: breached, search: breached });
    const message = JSON.parse(firing!.body);
    expect(message).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null }] });
    const card = message.attachments[0].content;
    expect(card).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: 'FIRING:2 r (critical)', color: 'Attention' });
    const containers = card.body.filter((element: { type: string }) => element.type === 'Container');
    expect(containers).toHaveLength(2);
    const facts = Object.fromEntries(containers[0].items[1].facts.map((fact: { title: string; value: string }) => [fact.title, fact.value]));
    expect(facts).toEqual({ KPI: 'Sev0 incidents (sev0_incidents)', Team: 'ranking', Tier: 'all', Value: '2', Target: '≤ 0', State: 'firing', Severity: 'critical', Granularity: 'month' });
    expect(containers[0].items[2].actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in the KPI dashboard', url: run.instances.get('ranking')!.dashboard_url }]);

    const [resolved] = run.evaluate(120, { ranking: met, search: met });
    const resolvedCard = JSON.parse(resolved!.body).attachments[0].content;
    expect(adaptiveCardProblems(resolvedCard)).toEqual([]);
    expect(resolvedCard.body[0]).toMatchObject({ text: 'RESOLVED r (critical)', color: 'Good' });
    expect(resolvedCard.body.filter((element: { type: string }) => element.type === 'Container').map((container: any) => container.items[1].facts.find((fact: { title: string }) => fact.title === 'State').value)).toEqual(['resolved', 'resolved']);
  });

  it('the card check itself catches what a 1.4 host cannot show', () => {
    expect(adaptiveCardProblems({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'Table', columns: [] }] }).join()).toMatch(/Table/);
  });
});

describe('receiver settings', () => {
  it('hide their secrets from readers', () => {
    const rule = ruleWith([
      { type: 'pagerduty', routing_key: ROUTING_KEY },
      { type: 'teams', url: 'https://prod.example.com/workflows/abc?sig=secret' },
      { type: 'alertmanager', url: 'http://am:9093', headers: { Authorization: 'Basic c2VjcmV0' } },
    ]);
    expect(rule.receivers.map(redactReceiver)).toEqual([
      { type: 'pagerduty', name: 'pagerduty-1', routing_key: '<redacted>', url: 'https://events.pagerduty.com/v2/enqueue', send_resolved: true },
      { type: 'teams', name: 'teams-2', url: 'https://prod.example.com/…', send_resolved: true },
      { type: 'alertmanager', name: 'alertmanager-3', url: 'http://am:9093', headers: { Authorization: '<redacted>' } },
    ]);
  });

  it('refuse what cannot work, naming the field', () => {
    const problems = (receiver: unknown) => {
      try {
        ruleWith([receiver]);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    expect(problems({ type: 'pagerduty', routing_key: 'short' })).toMatch(/^receivers\.0\.routing_key: expected the 32-character integration key/);
    expect(problems({ type: 'alertmanager', url: 'am:9093' })).toMatch(/^receivers\.0\.url: expected an http\(s\) URL/);
    expect(problems({ type: 'alertmanager', url: 'http://am:9093', send_resolved: false })).toMatch(/^receivers\.0: Unrecognized key: "send_resolved"/);
    expect(problems({ type: 'teams' })).toMatch(/^receivers\.0\.url:/);
  });
});
