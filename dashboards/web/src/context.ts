import type { KpiDescription as KpiDefinition, TeamSummary as Team } from '@kpi/api-contract';
import type { State } from './state.ts';

/** What every view gets: the state from the URL, the catalog (loaded once), the teams, and navigation. */
export interface Context {
  state: State;
  catalog: KpiDefinition[];
  teams: Team[];
  navigate(patch: Partial<State>, options?: { replace?: boolean }): void;
  href(patch: Partial<State>): string;
  /** Re-render the current view in place (e.g. after an in-memory toggle). */
  rerender(): void;
}

export interface Rendered {
  node: Node;
  title: string;
  /** Runs once the node is in the document (charts need their width). */
  mount?(): void;
  /** Runs before the node is replaced. */
  unmount?(): void;
}

/** Presentation groups of the catalog (shared with the reports); unknown ids go last. */
import { KPI_GROUPS } from '@kpi/format';

export const GROUPS = KPI_GROUPS;

export function groupKpis<T extends { id: string }>(items: T[]): { title: string; items: T[] }[] {
  const seen = new Set<string>();
  const groups = GROUPS.map((group) => {
    const inGroup = group.ids.map((id) => items.find((item) => item.id === id)).filter((item): item is T => !!item);
    inGroup.forEach((item) => seen.add(item.id));
    return { title: group.title, items: inGroup };
  });
  const rest = items.filter((item) => !seen.has(item.id));
  if (rest.length) groups.push({ title: 'Other', items: rest });
  return groups.filter((group) => group.items.length > 0);
}

export const teamLabel = (team: string) => (team === 'all' ? 'Organisation (all teams)' : `Team ${team}`);
