import { TEAM_PATTERN } from '@kpi/events';
import { parseReviewPeriod, type Period, type ReviewGranularity } from '@kpi/kpi';

/** A report request that cannot be served: names the parameter (the API answers 400 with it). */
export class ReportRequestError extends Error {
  override name = 'ReportRequestError';
  constructor(
    readonly parameter: 'quarter' | 'year' | 'team',
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}


/** `all` (or nothing) is the organisation; otherwise a team name as the events carry it. */
export const ORGANISATION = 'all';

export interface ReportRequest {
  /** The period reviewed: a quarter (2026-Q1), or a year (2026) for a yearly review. */
  quarter: string;
  granularity: ReviewGranularity;
  team: string;
  period: Period;
}

/**
 * Checks a (period, team) pair: a quarter such as 2026-Q1, or a year such as 2026, that has
 * started by `now`, and `all` or a team name. A period with no data is valid: its report says so.
 */
export function resolveRequest(quarter: string, team: string | undefined, now: Date): ReportRequest {
  const review = parseReviewPeriod(quarter);
  if (!review) throw new ReportRequestError('quarter', `expected a quarter such as 2026-Q1 or a year such as 2026, got ${JSON.stringify(quarter)}`);
  const { granularity, period } = review;
  const parameter = granularity === 'year' ? 'year' : 'quarter';
  if (period.start.getUTCFullYear() < 1970) throw new ReportRequestError(parameter, `${quarter} is before 1970`);
  if (period.start.getTime() > now.getTime()) throw new ReportRequestError(parameter, `${quarter} has not started yet`);
  const scope = team === undefined || team === '' ? ORGANISATION : team;
  if (scope !== ORGANISATION && !TEAM_PATTERN.test(scope)) {
    throw new ReportRequestError('team', `expected all or a team name (${TEAM_PATTERN.source}), got ${JSON.stringify(scope)}`);
  }
  return { quarter, granularity, team: scope, period };
}

/** The report of a quarter and scope has one id, so requests and schedules for it collapse into one. */
export function reportId(quarter: string, team: string): string {
  return `${quarter}-${team}`;
}

/** The inverse of reportId, or undefined for a string that is not a report id. */
export function parseReportId(id: string): { quarter: string; team: string } | undefined {
  const match = /^(\d{4}(?:-Q[1-4])?)-(.+)$/.exec(id);
  if (!match) return undefined;
  const team = match[2]!;
  if (team !== ORGANISATION && !TEAM_PATTERN.test(team)) return undefined;
  return { quarter: match[1]!, team };
}

export const scopeLabel = (team: string) => (team === ORGANISATION ? 'Organisation (all teams)' : `Team ${team}`);
