/** A row of a source as ClickHouse returns it (JSONEachRow). */
export type Row = Record<string, unknown>;

/**
 * Epoch milliseconds of a ClickHouse instant: ISO text (the client's `iso` output format) or
 * 'YYYY-MM-DD hh:mm:ss[.sss]' in UTC; null stays null.
 */
export function instant(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return Date.parse(/^\d{4}-\d\d-\d\d \d/.test(text) ? `${text.replace(' ', 'T')}Z` : text);
}

export const iso = (value: unknown): string | null => {
  const ms = instant(value);
  return ms === null ? null : new Date(ms).toISOString();
};
