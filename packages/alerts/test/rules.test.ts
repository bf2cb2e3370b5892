import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@kpi/config';
import { DEFAULT_RULES, formatDuration, loadRuleSources, parseDuration, parseRule, periodLabel, RuleError, ruleSchema } from '../src/index.ts';

const valid = { name: 'sev0', kpi: 'sev0_incidents', scope: 'team', team: 'ranking', for: '15m', receivers: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }] };

function problems(input: unknown): string[] {
  try {
    parseRule(input);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleError);
    return (error as RuleError).problems;
  }
  throw new Error('expected the rule to be refused');
}

describe('durations', () => {
  it('read Prometheus durations, largest unit first', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('0')).toBe(0);
    for (const bad of ['15', '15 minutes', '30m1h', '1.5h', '', 'm', '-5m']) expect(parseDuration(bad), bad).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });
});

describe('rule validation', () => {
  it('fills in the defaults and derives the condition', () => {
    const rule = parseRule(valid);
    expect(rule).toMatchObject({ tier: 'all', granularity: 'month', period: 'current', condition: 'target_breached', severity: 'warning', group_by: ['alertname'], no_data: 'ok', on_error: 'keep_state', enabled: true });
    expect(rule.receivers[0]).toMatchObject({ name: 'webhook-1', send_resolved: true });
    expect(parseRule({ ...valid, op: '>', threshold: 2, tier: 1 })).toMatchObject({ condition: 'threshold', op: '>', threshold: 2, tier: '1' });
    expect(parseRule({ ...valid, granularity: 'year' })).toMatchObject({ granularity: 'year' });
    expect(problems({ ...valid, granularity: 'decade' })).toEqual([expect.stringMatching(/^granularity: expected one of day, week, month, quarter, year/)]);
  });

  it('refuses an unknown KPI, a bad threshold and a bad duration, naming the field', () => {
    expect(problems({ ...valid, kpi: 'sev9_incidents' })).toEqual([expect.stringMatching(/^kpi: unknown KPI "sev9_incidents"/)]);
    expect(problems({ ...valid, op: '>', threshold: 'high' })).toEqual(['threshold: expected a finite number']);
    expect(problems({ ...valid, kpi: 'drift_feature_coverage', scope: 'all', team: undefined, op: '<', threshold: 80 })).toEqual([
      'threshold: drift_feature_coverage is a ratio in [0, 1]; 80 is outside it',
    ]);
    expect(problems({ ...valid, op: '>' })[0]).toMatch(/^threshold: required/);
    expect(problems({ ...valid, threshold: 1 })[0]).toMatch(/^op: required/);
    expect(problems({ ...valid, for: '15 minutes' })).toEqual([expect.stringMatching(/^for: expected a duration such as .*got "15 minutes"/)]);
    expect(problems({ ...valid, for: -2 })[0]).toMatch(/^for: /);
    expect(problems({ ...valid, repeat_interval: 'daily' })[0]).toMatch(/^repeat_interval: expected a duration/);
  });

  it('refuses inconsistent scopes, tiers, labels, templates and receivers', () => {
    expect(problems({ ...valid, team: undefined })).toEqual(['team: required when scope is team']);
    expect(problems({ ...valid, kpi: 'experiment_throughput', tier: 1 })[0]).toMatch(/^tier: experiment_throughput is computed over events that carry no tier/);
    expect(problems({ ...valid, labels: { team: 'x' } })).toEqual(['labels.team: team is set from the rule itself']);
    expect(problems({ ...valid, annotations: { summary: '{{valeu}} sev0' } })[0]).toMatch(/^annotations.summary: unknown template variable \{\{valeu\}\}/);
    expect(problems({ ...valid, receivers: [{ type: 'pager', url: 'http://x' }] })).toEqual(['receivers.0.type: expected type webhook, slack, alertmanager, teams, pagerduty']);
    expect(problems({ ...valid, receivers: [{ type: 'webhook', url: 'ftp://x' }] })[0]).toMatch(/^receivers.0.url: expected an http\(s\) URL/);
    expect(problems({ ...valid, treshold: 3 })[0]).toMatch(/Unrecognized key: "treshold"/);
    expect(problems({ ...valid, group_interval: '1m', repeat_interval: '30s' })[0]).toMatch(/^repeat_interval: must not be shorter than group_interval/);
  });

  it('parses its own output unchanged (stored rules round-trip)', () => {
    const rule = parseRule({ ...valid, op: '>=', threshold: 1, annotations: { summary: '{{team}}: {{value}} ({{labels.alertname}})' }, labels: { page: 'yes' } });
    expect(ruleSchema.parse(JSON.parse(JSON.stringify(rule)))).toEqual(rule);
  });

  it('ships a valid default rule set covering the blueprint targets', () => {
    const rules = loadRuleSources({ file: undefined, defaults: true }).defaults;
    expect(rules).toHaveLength(DEFAULT_RULES.length);
    expect(rules.map((rule) => rule.kpi)).toEqual(expect.arrayContaining(['time_to_mitigate_hours', 'drift_feature_coverage', 'srm_failure_rate', 'sev0_incidents']));
    expect(rules.find((rule) => rule.kpi === 'time_to_mitigate_hours')).toMatchObject({ tier: '1', condition: 'target_breached', scope: 'each_team' });
  });

  it('ships a warning forecast rule for each count target', () => {
    const forecasts = loadRuleSources({ file: undefined, defaults: true }).defaults.filter((rule) => rule.condition === 'forecast');
    expect(forecasts.map((rule) => `${rule.kpi}/${rule.granularity}`).sort()).toEqual([
      'cross_team_reuse/year', 'experiment_throughput/month', 'experiment_throughput/quarter', 'experiment_throughput/year', 'mentorship_contributions/quarter',
      'mentorship_contributions/year', 'releases_delivered/quarter', 'releases_delivered/year', 'tech_debt_closed/quarter', 'tech_debt_closed/year',
    ]);
    expect(forecasts.every((rule) => rule.severity === 'warning' && rule.scope === 'each_team' && rule.period === 'current')).toBe(true);
  });

  it('takes a forecast condition only for counts and shares of the period under way, and a granularity only where the KPI has it', () => {
    expect(parseRule({ ...valid, kpi: 'releases_delivered', granularity: 'quarter', condition: 'forecast' })).toMatchObject({ condition: 'forecast' });
    expect(problems({ ...valid, kpi: 'time_to_detect_hours', condition: 'forecast' })).toEqual(['condition: time_to_detect_hours has no forecast: only counts and shares of counts have one (SPEC 5c)']);
    expect(problems({ ...valid, kpi: 'drift_model_coverage', condition: 'forecast' })).toEqual(['condition: drift_model_coverage has no forecast: only counts and shares of counts have one (SPEC 5c)']);
    expect(problems({ ...valid, kpi: 'releases_delivered', condition: 'forecast', period: 'previous' })).toEqual(['period: a forecast is of the period under way: current']);
    expect(problems({ ...valid, kpi: 'releases_delivered', condition: 'forecast', op: '>=' })).toEqual(['op: only with condition threshold (the target supplies the comparison)']);
    expect(problems({ ...valid, kpi: 'releases_delivered', granularity: 'day' })).toEqual(['granularity: releases_delivered is computed per week, month, quarter, year; not per day']);
    expect(parseRule({ ...valid, kpi: 'data_freshness_sla', granularity: 'day' })).toMatchObject({ granularity: 'day' });
  });
});

describe('rules file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpi-alert-rules-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  // The file is read once, into the configuration; the rules are parsed from that document.
  const readRulesFile = (path: string) => {
    const sources = loadRuleSources({ file: loadConfig({ ALERT_RULES_FILE: path }).alerts.rulesFile, defaults: false });
    return { rules: sources.file, defaultReceivers: sources.defaultReceivers };
  };

  it('reads a list of rules or rules with default receivers', () => {
    expect(readRulesFile(file('list.yaml', '- { name: a, kpi: sev0_incidents, scope: all }\n')).rules.map((rule) => rule.name)).toEqual(['a']);
    const full = readRulesFile(
      file('full.yaml', 'default_receivers:\n  - { type: slack, url: "https://hooks.slack.com/services/T/B/x" }\nrules:\n  - name: b\n    kpi: time_to_mitigate_hours\n    tier: 1\n    for: 30m\n'),
    );
    expect(full.defaultReceivers).toEqual([expect.objectContaining({ type: 'slack', name: 'slack-1' })]);
    expect(full.rules[0]).toMatchObject({ name: 'b', tier: '1', for: '30m' });
  });

  it('names the file, the rule and the field of every problem', () => {
    const path = file('bad.yaml', '- { name: a, kpi: nope }\n- { name: b, kpi: sev0_incidents, for: soon }\n- { name: b, kpi: sev0_incidents }\n');
    expect(() => readRulesFile(path)).toThrow(`ALERT_RULES_FILE=${path}: rules.0 (a).kpi: unknown KPI "nope"; GET /v1/kpis lists them; rules.1 (b).for: `);
    expect(() => readRulesFile(file('dup.yaml', '- { name: a, kpi: sev0_incidents }\n- { name: a, kpi: sev0_incidents }\n'))).toThrow('rules.1 (a).name: duplicate rule name a');
    expect(() => readRulesFile(file('broken.yaml', 'rules: [\n'))).toThrow(/^invalid configuration: ALERT_RULES_FILE=".*broken.yaml": not YAML or JSON: /);
    expect(() => readRulesFile(join(dir, 'missing.yaml'))).toThrow(/^invalid configuration: ALERT_RULES_FILE=".*missing.yaml": no such file$/);
  });
});

describe('period labels', () => {
  it('name ISO weeks, months and quarters', () => {
    expect(periodLabel('week', new Date('2026-11-23T00:00:00Z'))).toBe('2026-W48');
    expect(periodLabel('week', new Date('2025-12-29T00:00:00Z'))).toBe('2026-W01');
    expect(periodLabel('month', new Date('2026-03-01T00:00:00Z'))).toBe('2026-03');
    expect(periodLabel('quarter', new Date('2026-10-01T00:00:00Z'))).toBe('2026-Q4');
    expect(periodLabel('year', new Date('2026-01-01T00:00:00Z'))).toBe('2026');
    expect(periodLabel('week', new Date('2021-01-04T00:00:00Z'))).toBe('2021-W01');
    expect(periodLabel('week', new Date('2020-12-28T00:00:00Z'))).toBe('2020-W53');
  });
});
