/** The dashboard's state lives in the URL query, so links, reloads and back/forward keep the view. */
import { GRANULARITIES, TEAM_PATTERN, TIER_SCOPES, type Granularity, type TierScope as Tier } from '@kpi/schemas';

export type { Tier };
export type View = 'scorecard' | 'kpi' | 'ops' | 'reports';

export interface State {
  view: View;
  /** The scorecard's period: a quarter (2026-Q3) or a year (2026). */
  quarter: string;
  granularity: Granularity;
  team: string;
  kpi: string | null;
  tier: Tier;
  /** The selected period of the KPI view (its start, YYYY-MM-DD); null = the latest. */
  period: string | null;
}

const VIEWS: View[] = ['scorecard', 'kpi', 'ops', 'reports'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const quarterLabelOf = (d: Date) => `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;

/** The last `n` quarters, newest first, the current one included. */
export function lastQuarters(n: number, now = new Date()): string[] {
  const labels: string[] = [];
  let year = now.getUTCFullYear();
  let q = Math.floor(now.getUTCMonth() / 3) + 1;
  for (let i = 0; i < n; i++) {
    labels.push(`${year}-Q${q}`);
    q -= 1;
    if (q === 0) {
      q = 4;
      year -= 1;
    }
  }
  return labels;
}

const iso = (year: number, month: number) => new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 10);

/** The last `n` years, newest first, the current one included. */
export function lastYears(n: number, now = new Date()): string[] {
  return Array.from({ length: n }, (_, i) => String(now.getUTCFullYear() - i));
}

/** The scorecard's period: a quarter (2026-Q3) or a year (2026). */
export const isYear = (label: string) => /^\d{4}$/.test(label);

/** [start, end) of a period label as dates: 2026-Q3 -> 2026-07-01, 2026-10-01; 2026 -> 2026-01-01, 2027-01-01. */
export function periodBounds(label: string): { start: string; end: string } {
  if (isYear(label)) return { start: iso(Number(label), 0), end: iso(Number(label) + 1, 0) };
  const [, y, q] = /^(\d{4})-Q([1-4])$/.exec(label) ?? [];
  const year = Number(y);
  const month = (Number(q) - 1) * 3;
  return { start: iso(year, month), end: iso(year, month + 3) };
}

export const currentQuarter = () => quarterLabelOf(new Date());

export function readState(search = location.search): State {
  const query = new URLSearchParams(search);
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = query.get(key) as T | null;
    return value && allowed.includes(value) ? value : fallback;
  };
  const quarter = query.get('quarter');
  const team = query.get('team');
  const kpi = query.get('kpi');
  const period = query.get('period');
  const state: State = {
    view: pick('view', VIEWS, 'scorecard'),
    quarter: quarter && /^\d{4}(-Q[1-4])?$/.test(quarter) ? quarter : currentQuarter(),
    granularity: pick('granularity', GRANULARITIES, 'month'),
    team: team && TEAM_PATTERN.test(team) ? team : 'all',
    kpi: kpi && /^[a-z0-9_]{1,64}$/.test(kpi) ? kpi : null,
    tier: pick('tier', TIER_SCOPES, 'all'),
    period: period && DAY.test(period) ? period : null,
  };
  if (state.view === 'kpi' && !state.kpi) state.view = 'scorecard';
  return state;
}

export function queryOf(state: State): string {
  const query = new URLSearchParams();
  query.set('view', state.view);
  query.set('quarter', state.quarter);
  query.set('granularity', state.granularity);
  query.set('team', state.team);
  if (state.view === 'kpi' && state.kpi) {
    query.set('kpi', state.kpi);
    if (state.tier !== 'all') query.set('tier', state.tier);
    if (state.period) query.set('period', state.period);
  }
  return `?${query}`;
}

export const hrefOf = (state: State) => `${location.pathname}${queryOf(state)}`;
