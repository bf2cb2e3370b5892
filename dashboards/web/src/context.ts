import type { KpiDescription as KpiDefinition, Principal, TeamSummary as Team } from '@kpi/api-contract';
import type { State } from './state.ts';
import { groupByKpiGroup } from '@kpi/format';

/** What every view gets: the state from the URL, the catalog (loaded once), the teams, and navigation. */
export interface Context {
  state: State;
  /** Who is signed in: its role and team scopes decide what the views offer. */
  principal: Principal;
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

/** KPIs grouped as their catalog entries say, groups in the order shared with the reports. */
export function groupKpis<T extends { id: string }>(items: T[], catalog: KpiDefinition[]): { title: string; items: T[] }[] {
  const groupOf = new Map(catalog.map((kpi) => [kpi.id, kpi.group]));
  return groupByKpiGroup(items.map((item) => ({ item, group: groupOf.get(item.id) }))).map((group) => ({ title: group.title, items: group.items.map((entry) => entry.item) }));
}

export const teamLabel = (team: string) => (team === 'all' ? 'Organisation (all teams)' : `Team ${team}`);
