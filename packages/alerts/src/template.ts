import { isoWeek } from '@kpi/format';
import type { Granularity } from '@kpi/kpi';

/**
 * Annotation templates: `{{name}}` placeholders replaced by the alert's values when it is
 * evaluated (as Prometheus re-renders annotations at every evaluation). Unknown names are
 * refused when a rule is validated, so a typo never reaches a receiver.
 */
export const TEMPLATE_VARIABLES = [
  'value', 'target', 'threshold', 'team', 'tier', 'kpi', 'kpi_name', 'unit', 'period', 'period_start', 'period_end',
  'granularity', 'severity', 'rule', 'state', 'dashboard_url', 'forecast', 'forecast_low', 'forecast_high', 'probability_met',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

/** Placeholders of a template that are not known variables (nor labels.<name>). */
export function unknownPlaceholders(template: string): string[] {
  const unknown: string[] = [];
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (name!.startsWith('labels.') && /^labels\.[a-zA-Z_][a-zA-Z0-9_]*$/.test(name!)) continue;
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name!)) unknown.push(name!);
  }
  return unknown;
}

export function renderTemplate(template: string, variables: Partial<Record<TemplateVariable, string>>, labels: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (name.startsWith('labels.')) return labels[name.slice(7)] ?? '';
    return variables[name as TemplateVariable] ?? '';
  });
}

/** A number as people read it in an alert: at most 4 decimals, no float noise; null as "n/a". */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(Math.abs(value) >= 100 ? 1 : 4)));
}

/** The period's name: 2026-11-30 (a day), 2026-W48 (ISO week), 2026-11, 2026-Q4, 2026. */
export function periodLabel(granularity: Granularity, start: Date): string {
  const year = start.getUTCFullYear();
  if (granularity === 'day') return start.toISOString().slice(0, 10);
  if (granularity === 'year') return String(year);
  if (granularity === 'quarter') return `${year}-Q${Math.floor(start.getUTCMonth() / 3) + 1}`;
  if (granularity === 'month') return `${year}-${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
  return isoWeek(start);
}
