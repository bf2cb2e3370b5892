import { TEAM_PATTERN } from '@kpi/events';
import { parseQuarter, type Period } from '@kpi/kpi';

/** A report request that cannot be served: names the parameter (the API answers 400 with it). */
export class ReportRequestError extends Error {
  override name = 'ReportRequestError';
  constructor(
    readonly parameter: 'quarter' | 'team',
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

export const QUARTER_PATTERN = /^\d{4}-Q[1-4]$/;

/** `all` (or nothing) is the organisation; otherwise a team name as the events carry it. */
export const ORGANISATION = 'all';

export interface ReportRequest {
  quarter: string;
  team: string;
  period: Period;
}

/**
 * Checks a (quarter, team) pair: a quarter such as 2026-Q1 that has started by `now`, and `all`
 * or a team name. A quarter with no data is valid: its report says so.
 */
export function resolveRequest(quarter: string, team: string | undefined, now: Date): ReportRequest {
  const period = QUARTER_PATTERN.test(quarter) ? parseQuarter(quarter) : undefined;
  if (!period) throw new ReportRequestError('quarter', `expected a quarter such as 2026-Q1, got ${JSON.stringify(quarter)}`);
  if (period.start.getUTCFullYear() < 1970) throw new ReportRequestError('quarter', `${quarter} is before 1970`);
  if (period.start.getTime() > now.getTime()) throw new ReportRequestError('quarter', `${quarter} has not started yet`);
  const scope = team === undefined || team === '' ? ORGANISATION : team;
  if (scope !== ORGANISATION && !TEAM_PATTERN.test(scope)) {
    throw new ReportRequestError('team', `expected all or a team name (${TEAM_PATTERN.source}), got ${JSON.stringify(scope)}`);
  }
  return { quarter, team: scope, period };
}

/** The report of a quarter and scope has one id, so requests and schedules for it collapse into one. */
export function reportId(quarter: string, team: string): string {
  return `${quarter}-${team}`;
}

/** The inverse of reportId, or undefined for a string that is not a report id. */
export function parseReportId(id: string): { quarter: string; team: string } | undefined {
  const match = /^(\d{4}-Q[1-4])-(.+)$/.exec(id);
  if (!match) return undefined;
  const team = match[2]!;
  if (team !== ORGANISATION && !TEAM_PATTERN.test(team)) return undefined;
  return { quarter: match[1]!, team };
}

export const scopeLabel = (team: string) => (team === ORGANISATION ? 'Organisation (all teams)' : `Team ${team}`);
