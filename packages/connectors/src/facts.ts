import type { DataInput } from '@kpi/events';

/** The release facts of SPEC §3 that a deploy tool may carry under their own names. */
export const RELEASE_FACT_FIELDS = ['readiness_first_pass', 'reproducible', 'docs', 'monitoring', 'offline_metric', 'calibration_ece', 'slices'] as const;
type Facts = Partial<Pick<DataInput<'release.deployed'>, (typeof RELEASE_FACT_FIELDS)[number]>>;

/** The facts present in `source`, as they are: the event schema judges them. */
export function pickReleaseFacts(source: Record<string, unknown>): Facts {
  return Object.fromEntries(RELEASE_FACT_FIELDS.filter((field) => source[field] !== undefined).map((field) => [field, source[field]])) as Facts;
}
