import { describe, expect, it } from 'vitest';
import { CATALOG } from '@kpi/kpi';
import { contentHash, narrate, renderHtml, renderMarkdown, sparkline, type Report, type ReportKpi } from '../src/index.ts';
import { axisOf, trendChart } from '../src/svg.ts';
import { formatChange, formatTarget, formatValue } from '../src/format.ts';
import { md } from '../src/markdown.ts';
import { parseReportId, reportId, resolveRequest } from '../src/request.ts';

// Rendering without a database: a hand-made report whose entity names come from events, hostile ones included.
const HOSTILE = '<img src=x onerror=alert(1)>|`*_[x](http://evil)';
const quarters = ['2024-Q2', '2024-Q3', '2024-Q4', '2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4', '2026-Q1'];

function kpi(index: number): ReportKpi {
  const definition = CATALOG[index]!;
  const value = definition.unit === 'ratio' ? 0.5 + index / 100 : index;
  const status = index % 4 === 0 ? 'breached' : index % 4 === 1 ? 'met' : index % 4 === 2 ? 'no_target' : 'no_data';
  return {
    id: definition.id,
    name: definition.name,
    description: definition.description,
    unit: definition.unit,
    direction: definition.direction,
    group: 'Other',
    value: status === 'no_data' ? null : value,
    numerator: null,
    denominator: null,
    sample_size: status === 'no_data' ? 0 : 3,
    target: status === 'no_target' || status === 'no_data' ? null : value,
    target_kind: 'threshold',
    status,
    previous_value: value,
    previous_status: 'met',
    change: { absolute: 0, relative: 0, direction: 'unchanged' },
    trend: quarters.map((quarter, i) => ({ quarter, value: i === 3 ? null : value + i, target: value, status: 'met' })),
    forecast: null,
  };
}

function fixture(): Report {
  const tier1 = { id: 'x', value: 1, sample_size: 1, target: 24, status: 'met' as const, previous_value: null, details: {} };
  const content = {
    schema_version: 1,
    id: '2026-Q1-search',
    quarter: '2026-Q1',
    review: 'quarterly' as const,
    team: 'search',
    scope: 'Team search',
    period: { start: '2026-01-01T00:00:00Z', end: '2026-04-01T00:00:00Z' },
    previous_quarter: '2025-Q4',
    has_data: true,
    open_quarter: false,
    in_progress: null,
    summary: { kpis: CATALOG.length, met: 7, breached: 7, no_target: 7, no_data: 7 },
    kpis: CATALOG.map((_, index) => kpi(index)),
    breached: [],
    alerts: { configured: true as const, fired: 1, by_rule: [{ rule: HOSTILE, kpi: 'sev0_incidents', fired: 1 }], alerts: [{ at: '2026-02-01T00:00:00.000Z', rule: HOSTILE, kpi: 'sev0_incidents', team: 'search', severity: 'critical', value: 1, target: 0, period_start: null, reason: 'x' }], truncated: false },
    incidents: {
      opened: 1,
      by_severity: { sev0: 1, sev1: 0, sev2: 0, sev3: 0 },
      by_category: { model: 1 },
      mitigated: 1,
      ttd: { value: 1, p90: 1, sample_size: 1, tier1 },
      ttm: { value: 80, p90: 80, sample_size: 1, tier1: { ...tier1, value: 80, target: 72, status: 'breached' as const } },
      open_past_target: [],
      slowest_mitigations: [{ incident_id: HOSTILE, team: 'search', tier: 1, severity: 'sev0', category: 'model', model_id: HOSTILE, opened_at: '2026-01-01T00:00:00.000Z', detected_at: '2026-01-01T00:00:00.000Z', mitigated_at: '2026-01-04T08:00:00.000Z', ttd_hours: 1, ttm_hours: 80, over_tier1_target: true }],
      sev0: [],
    },
    experiments: { decided: 0, by_decision: {}, shipped: [], srm_failures: [], guardrail_breaches: [] },
    releases: { count: 1, rolled_back: [], by_model: [{ model_id: HOSTILE, team: 'search', tier: 1, releases: 1, rolled_back: 0, not_first_pass: 1, not_reproducible: 0, missing_model_card: 0, missing_runbook: 0, missing_readout: 0 }] },
    drift: {
      as_of: '2026-04-01T00:00:00Z',
      live_models: 1,
      tier1_models: 1,
      tier1: { feature_coverage: tier1, model_coverage: tier1 },
      tier1_gaps: [{ model_id: HOSTILE, release_id: 'r1', team: 'search', model_version: '1', drift_enabled: true, drift_alerting: false, critical_features: 2, unmonitored_critical_features: [HOSTILE] }],
    },
    data_and_cost: { arrivals: 1, late_arrivals: 1, late_by_dataset: [{ dataset: HOSTILE, arrivals: 1, late: 1, worst_delay_minutes: 300 }], validations: 2, failed_validations: 1, failed_validations_by_dataset: [{ dataset: HOSTILE, validations: 2, failed: 1, failed_suites: [HOSTILE] }], serving: { requests: 1000, cost_usd: 2, by_model: [{ model_id: HOSTILE, tier: 1, requests: 1000, cost_usd: 2, cost_per_1k: 2, latency_p95_ms: 80 }] }, training: { runs: 0, cost_usd: 0 } },
  };
  const report: Report = { ...content, narrative: narrate(content), content_hash: '', generated_at: '2026-04-02T00:00:00Z' };
  report.content_hash = contentHash(report);
  return report;
}

describe('report rendering', () => {
  it('escapes every string from the events in HTML and Markdown', () => {
    const report = fixture();
    const html = renderHtml(report);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script|<link|<iframe|url\(/i);
    const markdown = renderMarkdown(report);
    // Outside code spans (where HTML is literal text) nothing is left active.
    expect(markdown.replace(/``.*?``|`[^`]*`/g, '')).not.toMatch(/(^|[^\\])<img/m);
    expect(markdown).toContain('\\<img src=x onerror=alert(1)\\>\\|');
    // Inside tables, a pipe in a value never adds a cell: every row of a table has as many cells as its header.
    const cells = (line: string) => line.replace(/\\\|/g, '').split('|').length;
    let table: string[] = [];
    for (const line of [...markdown.split('\n'), '']) {
      if (line.startsWith('|')) table.push(line);
      else {
        for (const row of table) expect(cells(row), row).toBe(cells(table[0]!));
        table = [];
      }
    }
    expect(md('a|b*c_[d]<e>')).toBe('a\\|b\\*c\\_\\[d\\]\\<e\\>');
  });

  it('hashes content without the generation time, whatever the key order', () => {
    const report = fixture();
    const later = { ...report, generated_at: '2030-01-01T00:00:00Z' };
    expect(contentHash(later)).toBe(report.content_hash);
    const reordered = Object.fromEntries(Object.entries(report).reverse()) as unknown as Report;
    expect(contentHash(reordered)).toBe(report.content_hash);
    expect(contentHash({ ...report, quarter: '2026-Q2' })).not.toBe(report.content_hash);
  });

  it('draws trend charts as deterministic inline SVG with round axis ticks and gaps for empty quarters', () => {
    const entry = fixture().kpis[0]!;
    const svg = trendChart(entry);
    expect(svg).toBe(trendChart(entry));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" class="trend"')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(7); // one quarter without a value
    expect((svg.match(/<path d="([^"]+)" fill="none" stroke="#57606a"/)![1]!.match(/M/g) ?? []).length).toBe(2); // broken at the gap
    expect(axisOf([0, 0.75], 'ratio')).toEqual({ lo: 0, hi: 0.75, ticks: [0, 0.25, 0.5, 0.75] });
    expect(axisOf([0.2, 1], 'ratio')).toEqual({ lo: 0, hi: 1, ticks: [0, 0.5, 1] });
    expect(axisOf([3, 12], 'count')).toEqual({ lo: 0, hi: 15, ticks: [0, 5, 10, 15] });
    expect(axisOf([90, 90], 'ms').ticks).toEqual([80, 90, 100]);
    expect(trendChart({ ...entry, trend: entry.trend.map((point) => ({ ...point, value: null, target: null })) })).toContain('no data in these periods');
    expect(sparkline([0, 1, null, 2])).toBe('▁▅·█');
  });

  it('formats values, targets and changes in the units of the dashboard', () => {
    expect(formatValue(0.8333, 'ratio')).toBe('83.3%');
    expect(formatValue(12.5, 'hours')).toBe('12.5 h');
    expect(formatValue(0.012, 'relative_lift')).toBe('+1.2%');
    expect(formatTarget(72, 'hours', 'lower_is_better')).toBe('≤ 72 h');
    expect(formatTarget(3, 'count', 'lower_is_better', 'previous_period')).toBe('≤ 3 (prev. quarter)');
    expect(formatTarget(null, 'count', 'lower_is_better', 'previous_period')).toBe('≤ previous quarter (no value)');
    expect(formatChange(-0.25, 'ratio')).toBe('−25 pp');
    expect(formatChange(3, 'count')).toBe('+3');
  });

  it('checks report requests: quarter, scope and id', () => {
    const now = new Date('2026-11-24T00:00:00Z');
    expect(resolveRequest('2026-Q1', undefined, now)).toMatchObject({ quarter: '2026-Q1', team: 'all' });
    expect(() => resolveRequest('2026-Q5', 'search', now)).toThrow('quarter: expected a quarter such as 2026-Q1');
    expect(() => resolveRequest('2027-Q1', 'search', now)).toThrow('quarter: 2027-Q1 has not started yet');
    expect(() => resolveRequest('2026-Q1', 'Search!', now)).toThrow('team: expected all or a team name');
    expect(reportId('2026-Q1', 'search-ml')).toBe('2026-Q1-search-ml');
    expect(parseReportId('2026-Q1-search-ml')).toEqual({ quarter: '2026-Q1', team: 'search-ml' });
    expect(parseReportId('2026-Q1-')).toBeUndefined();
    expect(parseReportId('../etc')).toBeUndefined();
  });

  it('a review of a period in progress says so and lists the KPIs at risk with their probabilities', () => {
    const closed = fixture();
    expect(renderMarkdown(closed)).not.toContain('In progress');
    const forecast = { value: 5.75, low: 2, high: 10, probability_met: 0.25, outlook: 'at_risk' as const, elapsed: 0.4 };
    const atRisk = { id: 'releases_delivered', name: `Releases ${HOSTILE}`, unit: 'count' as const, direction: 'higher_is_better' as const, value: 2, target: 12, forecast };
    const open: Report = { ...closed, open_quarter: true, in_progress: { elapsed: 0.4, at_risk: [atRisk] } };
    const markdown = renderMarkdown(open);
    expect(markdown).toContain('## In progress: at risk (1)');
    expect(markdown).toContain('40% of the quarter has elapsed: the values are those so far.');
    expect(markdown).toMatch(/\| Releases .* \| 2 \| ≥ 12 \| 5\.75 \(2–10\) \| 25% \|/);
    const html = renderHtml(open);
    expect(html).toContain('<h2 id="in-progress-title">In progress: at risk (1)</h2>');
    expect(html).toContain('5.75 (2–10)');
    expect(html).not.toContain('<img');
    expect(renderMarkdown({ ...open, in_progress: { elapsed: 0.4, at_risk: [] } })).toContain('_No KPI is forecast to miss its target._');
  });

  it('a report without data says so and tells no highlight or lowlight', () => {
    const report = fixture();
    const empty = narrate({ ...report, has_data: false });
    expect(empty).toEqual({ headline: 'No data for team search in 2026-Q1: no release, incident, experiment or operational signal counts towards this quarter, so every KPI is empty (counts are 0).', highlights: [], lowlights: [] });
  });
});
