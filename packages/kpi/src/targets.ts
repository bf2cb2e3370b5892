import type { Status } from '@kpi/schemas';
import { z } from 'zod';
import type { Storage } from '@kpi/storage';
import type { KpiDefinition, TargetRule } from './definition.ts';
import type { TierScope } from './engine/compute.ts';
import { GRANULARITIES, type Granularity } from './periods.ts';

export { STATUSES, type Status } from '@kpi/schemas';

/** A team's own target for a KPI, replacing the catalog's default for that team (and granularity, if given). */
export const targetOverrideSchema = z.object({
  team: z.string().regex(/^([a-z0-9][a-z0-9_-]{0,63}|\*)$/, 'expected a team name, or * for the whole organisation'),
  kpi: z.string(),
  op: z.enum(['>=', '<=']),
  value: z.number().finite(),
  granularity: z.enum(GRANULARITIES).optional(),
});
export type TargetOverride = z.infer<typeof targetOverrideSchema>;

/** The rule that applies to a scope: a team override first, then the catalog's defaults. */
export function applicableRule(kpi: KpiDefinition, scope: { granularity: Granularity; tier: TierScope; team: string }, overrides: TargetOverride[] = []): TargetRule | undefined {
  const matching = overrides.filter(
    (candidate) => candidate.kpi === kpi.id && candidate.team === scope.team && (candidate.granularity === undefined || candidate.granularity === scope.granularity),
  );
  // A granularity-specific override is more specific than one for every granularity.
  const override = matching.find((candidate) => candidate.granularity !== undefined) ?? matching[0];
  if (override) return { kind: 'threshold', op: override.op, value: override.value };
  return kpi.targets.find((rule) => {
    if (rule.kind === 'previous_period') return true;
    if (rule.granularities && !rule.granularities.includes(scope.granularity)) return false;
    if (rule.tier1Only && scope.tier !== '1') return false;
    return true;
  });
}

/**
 * The target a KPI's backlog counts open entities against (incidents unmitigated past the TTM
 * target): the threshold that applies at tier 1 to the team and granularity, a team's override
 * included, as the reports' tier-1 figures judge it; null when none applies.
 */
export function backlogTarget(kpi: KpiDefinition, scope: { granularity: Granularity; team: string }, overrides: TargetOverride[] = []): number | null {
  const rule = applicableRule(kpi, { ...scope, tier: '1' }, overrides);
  return rule?.kind === 'threshold' ? rule.value : null;
}

/** SPEC status rules: no_data for a null value, no_target when no target applies, else met or breached. */
export function judge(rule: TargetRule | undefined, value: number | null, previousValue: number | null): { target: number | null; status: Status } {
  const target = rule === undefined ? null : rule.kind === 'threshold' ? rule.value : previousValue;
  if (value === null) return { target, status: 'no_data' };
  if (rule === undefined || target === null) return { target: null, status: 'no_target' };
  const met = rule.op === '>=' ? value >= target : value <= target;
  return { target, status: met ? 'met' : 'breached' };
}

/**
 * SPEC §5: a count target is given per granularity and applies to no other, except `year`, which
 * takes 4 x the quarterly number where the catalog gives none for the year.
 */
export function withYearlyTargets(targets: TargetRule[]): TargetRule[] {
  const perGranularity = (granularity: Granularity) => targets.find((rule) => rule.kind === 'threshold' && rule.granularities?.includes(granularity));
  const quarterly = perGranularity('quarter');
  if (!quarterly || quarterly.kind !== 'threshold' || perGranularity('year')) return targets;
  return [...targets, { ...quarterly, value: 4 * quarterly.value, granularities: ['year'] }];
}

/** The target overrides set through the admin API (the file's are in the configuration). */
export async function storedOverrides(storage: Storage): Promise<TargetOverride[]> {
  const rows = await storage.query<{ kpi: string; team: string; granularity: string; op: '>=' | '<='; value: number }>(
    'SELECT kpi, team, granularity, op, value FROM {db:Identifier}.target_overrides FINAL WHERE deleted = 0 ORDER BY kpi, team, granularity',
  );
  return rows.map((row) => ({ kpi: row.kpi, team: row.team, op: row.op, value: row.value, ...(row.granularity ? { granularity: row.granularity as TargetOverride['granularity'] } : {}) }));
}
