import { describe, expect, it } from 'vitest';
import { kpiById, periodOf } from '@kpi/kpi';
import {
  matchesAll, parseRule, planNotifications, silencedBy, step, timersOf, ZERO_TIME,
  type AlertInstance, type AlertRuleInput, type GroupState, type Observation, type Silence, type WebhookPayload,
} from '../src/index.ts';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const period = periodOf('month', T0);
const breached: Observation = { kind: 'value', value: 2, target: 0, status: 'breached', forecast: null, period };
const met: Observation = { kind: 'value', value: 0, target: 0, status: 'met', forecast: null, period };
const noData: Observation = { kind: 'value', value: null, target: 0, status: 'no_data', forecast: null, period };

function machine(input: Partial<AlertRuleInput>) {
  const rule = parseRule({ name: 'r', kpi: 'sev0_incidents', scope: 'team', team: 'ranking', receivers: [{ type: 'webhook', url: 'http://127.0.0.1:9/' }], ...input });
  const spec = { rule, kpi: kpiById(rule.kpi)!, teamScope: 'ranking', externalUrl: 'http://kpi.local' };
  let instance: AlertInstance | undefined;
  const seen: string[] = [];
  return {
    rule,
    get instance() {
      return instance;
    },
    observe(observation: Observation, seconds: number) {
      const result = step(spec, instance, observation, at(seconds));
      instance = result.next;
      if (result.transition) seen.push(`${result.transition.from}->${result.transition.to}@${seconds}`);
      return instance?.state ?? 'inactive';
    },
    seen,
  };
}

describe('alert states (Prometheus `for` semantics)', () => {
  it('pending while the condition holds for less than `for`, firing once it has, resolved when it stops', () => {
    const m = machine({ for: '5m' });
    expect(m.observe(met, 0)).toBe('inactive');
    expect(m.instance).toBeUndefined();
    expect(m.observe(breached, 10)).toBe('pending');
    expect(m.instance!.active_at).toBe(at(10).toISOString());
    expect(m.observe(breached, 309)).toBe('pending');
    expect(m.observe(breached, 310)).toBe('firing');
    expect(m.instance).toMatchObject({ fired_at: at(310).toISOString(), active_at: at(10).toISOString(), value: 2, target: 0 });
    expect(m.observe(met, 400)).toBe('resolved');
    expect(m.instance!.resolved_at).toBe(at(400).toISOString());
    expect(m.seen).toEqual(['inactive->pending@10', 'pending->firing@310', 'firing->resolved@400']);
  });

  it('a pending alert whose condition stops goes back to inactive, and starts over', () => {
    const m = machine({ for: '5m' });
    m.observe(breached, 0);
    m.observe(met, 200);
    m.observe(breached, 250);
    expect(m.observe(breached, 500)).toBe('pending');
    expect(m.observe(breached, 550)).toBe('firing');
    expect(m.seen).toEqual(['inactive->pending@0', 'pending->inactive@200', 'inactive->pending@250', 'pending->firing@550']);
  });

  it('for: 0 fires at once; a number counts consecutive evaluations', () => {
    const now = machine({ for: '0s' });
    expect(now.observe(breached, 0)).toBe('firing');
    expect(now.seen).toEqual(['inactive->firing@0']);
    const three = machine({ for: 3 });
    expect([three.observe(breached, 0), three.observe(breached, 1), three.observe(breached, 2)]).toEqual(['pending', 'pending', 'firing']);
  });

  it('no data and errors follow the rule\'s choice', () => {
    const ok = machine({ for: '0s' });
    ok.observe(breached, 0);
    expect(ok.observe(noData, 1)).toBe('resolved');
    const alerting = machine({ for: '0s', no_data: 'alerting' });
    expect(alerting.observe(noData, 0)).toBe('firing');
    const keep = machine({ for: '10s', no_data: 'keep_state' });
    keep.observe(breached, 0);
    expect(keep.observe(noData, 20)).toBe('pending');
    expect(keep.instance!.holds).toBe(1);
    expect(keep.observe(breached, 21)).toBe('firing');
    const error: Observation = { kind: 'error', message: 'ClickHouse unavailable', period };
    const kept = machine({ for: '0s' });
    kept.observe(breached, 0);
    expect(kept.observe(error, 5)).toBe('firing');
    expect(kept.instance!.error).toBe('ClickHouse unavailable');
    const erring = machine({ for: '0s', on_error: 'alerting' });
    expect(erring.observe(error, 0)).toBe('firing');
  });

  it('a forecast rule fires while the period is at risk, and resolves once it is on track or has no forecast', () => {
    const m = machine({ kpi: 'releases_delivered', granularity: 'quarter', condition: 'forecast', for: '0s' });
    const forecast = { value: 0.5, low: 0, high: 1, probability_met: 0.31, outlook: 'at_risk' as const, elapsed: 0.6 };
    const atRisk: Observation = { kind: 'value', value: 0, target: 1, status: 'breached', forecast, period };
    expect(m.observe(atRisk, 0)).toBe('firing');
    expect(m.instance!.annotations.summary).toBe('Releases delivered for ranking is projected to end 2026-Q4 at 0.5; 31 % chance of meeting the target 1');
    expect(m.instance!.forecast).toEqual(forecast);
    expect(m.observe({ ...atRisk, value: 1, status: 'met', forecast: { ...forecast, probability_met: 1, outlook: 'on_track' } }, 60)).toBe('resolved');
    expect(m.observe(atRisk, 120)).toBe('firing');
    // A breached status alone is not a forecast at risk: too early for a forecast, nothing fires.
    expect(m.observe({ ...atRisk, forecast: null }, 180)).toBe('resolved');
  });

  it('judges explicit thresholds and renders annotations with the values', () => {
    const m = machine({ for: '0s', op: '>=', threshold: 2, annotations: { summary: '{{team}} had {{value}} sev0 in {{period}} (threshold {{threshold}}, {{labels.alertname}})' } });
    expect(m.observe({ ...breached, value: 1 }, 0)).toBe('inactive');
    expect(m.observe(breached, 1)).toBe('firing');
    expect(m.instance!.annotations.summary).toBe('ranking had 2 sev0 in 2026-11 (threshold 2, r)');
    expect(m.instance!.annotations.dashboard_url).toBe('http://kpi.local/?view=kpi&kpi=sev0_incidents&granularity=month&team=ranking&tier=all&period=2026-11-01');
    expect(m.instance!.labels).toEqual({ alertname: 'r', kpi: 'sev0_incidents', team: 'ranking', tier: 'all', granularity: 'month', severity: 'warning' });
  });
});

describe('notification grouping', () => {
  const rule = parseRule({
    name: 'r', kpi: 'sev0_incidents', scope: 'each_team', for: '0s', group_wait: '30s', group_interval: '5m', repeat_interval: '1h',
    receivers: [{ type: 'webhook', url: 'http://127.0.0.1:9/' }],
  });
  const kpi = kpiById('sev0_incidents')!;
  const instanceOf = (team: string, observation: Observation, seconds: number, previous?: AlertInstance) =>
    step({ rule, kpi, teamScope: team, externalUrl: 'http://kpi.local' }, previous, observation, at(seconds)).next!;

  function run() {
    let groups = new Map<string, GroupState>();
    const sent: { seconds: number; payload: WebhookPayload; id: string; seq: number }[] = [];
    return {
      sent,
      plan(instances: AlertInstance[], seconds: number, silences: Silence[] = []) {
        const plan = planNotifications({ rules: [{ rule, receivers: rule.receivers, timers: timersOf(rule) }], instances, groups, silences, now: at(seconds), externalUrl: 'http://kpi.local', evaluationIntervalMs: 60_000 });
        groups = new Map(plan.groups.map((group) => [group.id, group]));
        for (const n of plan.notifications) sent.push({ seconds, payload: JSON.parse(n.body) as WebhookPayload, id: n.id, seq: n.seq });
        return plan.notifications.length;
      },
    };
  }

  it('waits group_wait, batches the group, repeats, and announces resolutions after group_interval', () => {
    const r = run();
    const a = instanceOf('a', breached, 0);
    expect(r.plan([a], 0)).toBe(0);
    const b = instanceOf('b', breached, 10);
    expect(r.plan([a, b], 10)).toBe(0);
    expect(r.plan([a, b], 30)).toBe(1);
    const first = r.sent[0]!.payload;
    expect(first).toMatchObject({ version: '4', status: 'firing', receiver: 'webhook-1', groupLabels: { alertname: 'r' }, commonLabels: { alertname: 'r', kpi: 'sev0_incidents', severity: 'warning' }, externalURL: 'http://kpi.local', truncatedAlerts: 0 });
    expect(first.groupKey).toBe('{}/{alertrule="r",receiver="webhook-1"}:{alertname="r"}');
    expect(first.alerts.map((alert) => [alert.labels.team, alert.status, alert.endsAt])).toEqual([['a', 'firing', ZERO_TIME], ['b', 'firing', ZERO_TIME]]);
    expect(first.alerts[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(first.commonAnnotations).toEqual({});
    // Nothing changed: no notification until repeat_interval.
    expect(r.plan([a, b], 600)).toBe(0);
    expect(r.plan([a, b], 3630)).toBe(1);
    expect(r.sent[1]!.seq).toBe(2);
    expect(r.sent[1]!.id).not.toBe(r.sent[0]!.id);
    // b resolves: announced once group_interval has passed since the last notification.
    const bResolved = instanceOf('b', met, 3700, b);
    expect(r.plan([a, bResolved], 3700)).toBe(0);
    expect(r.plan([a, bResolved], 3930)).toBe(1);
    expect(r.sent[2]!.payload.status).toBe('firing');
    expect(r.sent[2]!.payload.alerts.map((alert) => [alert.labels.team, alert.status])).toEqual([['a', 'firing'], ['b', 'resolved']]);
    expect(r.sent[2]!.payload.alerts[1]!.endsAt).toBe(at(3700).toISOString());
    const aResolved = instanceOf('a', met, 4000, a);
    expect(r.plan([aResolved, bResolved], 4300)).toBe(1);
    expect(r.sent[3]!.payload.status).toBe('resolved');
    expect(r.sent[3]!.payload.alerts.map((alert) => alert.labels.team)).toEqual(['a']);
    expect(r.sent.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
  });

  it('leaves silenced alerts out, and notifies them when the silence ends', () => {
    const r = run();
    const silence: Silence = {
      id: 's1', matchers: [{ name: 'team', value: 'a', op: '=' }], starts_at: at(0).toISOString(), ends_at: at(100).toISOString(),
      created_by: 't', comment: '', created_at: at(0).toISOString(), updated_at: at(0).toISOString(),
    };
    const a = instanceOf('a', breached, 0);
    expect(silencedBy([silence], a.labels, at(50).getTime())).toEqual(['s1']);
    expect(r.plan([a], 0, [silence])).toBe(0);
    expect(r.plan([a], 60, [silence])).toBe(0);
    expect(r.plan([a], 100, [silence])).toBe(0); // group_wait starts when it becomes audible
    expect(r.plan([a], 130, [silence])).toBe(1);
    expect(r.sent[0]!.payload.alerts[0]!.labels.team).toBe('a');
  });

  it('announces the resolution of a deleted rule\'s alerts once, and keeps numbering if the rule returns', () => {
    let groups = new Map<string, GroupState>();
    const plan = (rules: typeof rule[], instances: AlertInstance[], seconds: number) => {
      const result = planNotifications({ rules: rules.map((r) => ({ rule: r, receivers: r.receivers, timers: timersOf(r) })), instances, groups, silences: [], now: at(seconds), externalUrl: 'http://kpi.local', evaluationIntervalMs: 60_000 });
      groups = new Map(result.groups.map((group) => [group.id, group]));
      return result.notifications;
    };
    const a = instanceOf('a', breached, 0);
    expect(plan([rule], [a], 0)).toEqual([]);
    expect(plan([rule], [a], 30).map((n) => [n.seq, n.status])).toEqual([[1, 'firing']]);
    // The rule is deleted: the evaluation resolves its alert ("gone"); the group announces it at once.
    const gone = step(undefined, a, { kind: 'gone', reason: 'rule deleted or disabled' }, at(40)).next!;
    expect(gone.state).toBe('resolved');
    expect(plan([], [gone], 40).map((n) => [n.seq, n.status])).toEqual([[2, 'resolved']]);
    expect(plan([], [gone], 4000)).toEqual([]);
    const back = instanceOf('a', breached, 5000);
    expect(plan([rule], [back], 5000)).toEqual([]);
    expect(plan([rule], [back], 5030).map((n) => [n.seq, n.status])).toEqual([[3, 'firing']]);
  });

  it('matches labels like Alertmanager: equality, negation, anchored regular expressions', () => {
    const labels = { team: 'ranking', severity: 'critical' };
    expect(matchesAll([{ name: 'team', value: 'rank', op: '=~' }], labels)).toBe(false);
    expect(matchesAll([{ name: 'team', value: 'rank.*', op: '=~' }, { name: 'severity', value: 'info', op: '!=' }], labels)).toBe(true);
    expect(matchesAll([{ name: 'env', value: '', op: '=' }], labels)).toBe(true);
    expect(matchesAll([{ name: 'team', value: 'ranking|search', op: '!~' }], labels)).toBe(false);
  });
});
