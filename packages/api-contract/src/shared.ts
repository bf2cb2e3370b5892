import { z } from 'zod';
import { DIRECTIONS, GRANULARITIES, STATUSES, TEAM_PATTERN, TIER_SCOPES, UNITS } from '@kpi/schemas';

/**
 * The building blocks every route shares. Enumerations come from @kpi/schemas, where the
 * pipeline defines them too (granularities, units, statuses): a new one appears here by itself.
 */

/** A team as the events carry it; `all` (which the pattern admits) is the whole organisation. */
export const team = z
  .string()
  .regex(TEAM_PATTERN, `expected all or a team name (${TEAM_PATTERN.source})`)
  .describe('A team name, or all for the whole organisation');
/** The team a list is cut to (routes of team scope `teams`). */
export const listedTeam = team.optional().describe('Only this team. Absent: every team the caller reads; all: every team, for a caller without team scopes (one with them gets a 403)');
export const tier = z.enum(TIER_SCOPES, { error: `expected ${TIER_SCOPES.join(', ')}` }).describe('A tier (1 = most critical), or all');
export const granularity = z.enum(GRANULARITIES, { error: `expected ${GRANULARITIES.join(', ')}` });
export const unit = z.enum(UNITS);
export const direction = z.enum(DIRECTIONS);
export const status = z.enum(STATUSES);

/**
 * Years whose periods ClickHouse's DateTime can hold (1970 to 2106). Part of every date
 * parameter's pattern, so a generated or hand-written date outside them is a 400 naming it.
 */
const YEAR = '(?:19[7-9][0-9]|20[0-9][0-9]|210[0-5])';
/** A valid calendar day of those years: February 29 only in their leap years (2100 is not one). */
const DAY = `(?:(?:19(?:7[26]|8[048]|9[26])|20(?:[02468][048]|[13579][26])|2104)-02-29|${YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8])))`;
/** RFC 3339's time of day with seconds and an offset (Z or ±hh:mm). */
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)';

/**
 * A calendar date (2026-01-31) or an RFC 3339 timestamp with offset, 1970 to 2105: one pattern,
 * so the document states all of it and generators (schemathesis) produce valid values directly.
 */
export const instant = z.string().regex(new RegExp(`^${DAY}(?:T${TIME})?$`), 'expected a date (2026-01-31) or an RFC 3339 timestamp, 1970 to 2105');
export const timestamp = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp, e.g. 2026-11-20T10:00:00Z' });
/** A quarter such as 2026-Q3, 1970 to 2105. */
export const quarter = z.string().regex(new RegExp(`^${YEAR}-Q[1-4]$`), 'expected a quarter such as 2026-Q3 (1970 to 2105)');
/** A year such as 2026, 1970 to 2105: the period of a yearly review or scorecard. */
export const year = z.string().regex(new RegExp(`^${YEAR}$`), 'expected a year such as 2026 (1970 to 2105)');
export const limit = (max: number, fallback: number) =>
  z.coerce.number({ error: 'expected a number' }).int('expected an integer').min(1, 'at least 1').max(max, `at most ${max}`).default(fallback);

/** Every 4xx/5xx body: a machine-readable code, a message naming the problem, and each problem on its own for validation errors. */
export const errorBody = z
  .object({
    error: z.string().describe('machine-readable code: bad_request, unauthorized, forbidden, not_found, conflict, ...'),
    message: z.string().describe('what was wrong, naming the parameter or field'),
    issues: z.array(z.string()).optional().describe('one line per problem, for validation errors'),
  });
export type ErrorBody = z.output<typeof errorBody>;

/** What the API depends on (oidc: the organisation's OpenID provider, when sign-in is configured); a 503 names the one that did not answer. */
export const dependency = z.enum(['kafka', 'clickhouse', 'redis', 'oidc']);
/** A 503: a dependency is down or too slow; the answer names it, and Retry-After says when to try again. */
export const unavailableBody = errorBody.extend({ dependency: dependency.describe('the dependency that did not answer in time') });
export type UnavailableBody = z.output<typeof unavailableBody>;

export const iso = z.string().describe('RFC 3339 UTC timestamp');
