import { createHash } from 'node:crypto';
import type { Matcher } from '@kpi/schemas';

export type Labels = Record<string, string>;

export { LABEL_NAME } from '@kpi/schemas';

/** Labels sorted by name: the canonical form that fingerprints and group keys are computed from. */
export function sortedLabels(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** 16 hex digits identifying a label set, like Alertmanager's fingerprints. */
export function fingerprintOf(labels: Labels): string {
  return createHash('sha256').update(JSON.stringify(sortedLabels(labels))).digest('hex').slice(0, 16);
}

/** `{a="1", b="2"}` as Prometheus prints a label set. */
export function formatLabels(labels: Labels): string {
  return `{${Object.entries(sortedLabels(labels))
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ')}}`;
}

export { MATCH_OPS, matcherSchema, type Matcher } from '@kpi/schemas';

const regexCache = new Map<string, RegExp>();
function regexOf(source: string): RegExp {
  let regex = regexCache.get(source);
  if (!regex) {
    regex = new RegExp(`^(?:${source})$`);
    if (regexCache.size > 1_000) regexCache.clear();
    regexCache.set(source, regex);
  }
  return regex;
}

/** A missing label matches as the empty string, as in Alertmanager. */
export function matches(matcher: Matcher, labels: Labels): boolean {
  const value = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return regexOf(matcher.value).test(value);
    case '!~':
      return !regexOf(matcher.value).test(value);
  }
}

export const matchesAll = (matchers: Matcher[], labels: Labels) => matchers.every((matcher) => matches(matcher, labels));
