/** A request the schema admits but a rule across fields, the catalog or the clock refuses: a 400 naming the parameter. */
export class BadRequest extends Error {
  readonly statusCode = 400;
  readonly code = 'bad_request';
}

/** A date parameter (2026-01-31, midnight UTC) or an RFC 3339 timestamp, as the contract's `instant` admits them. */
export const toInstant = (value: string) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
