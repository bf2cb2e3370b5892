import type { Granularity } from '@kpi/queue';
import type { Storage } from '@kpi/storage';
import type { Evaluation, KpiDefinition } from './definition.ts';
import { parseEntity, type Entity, type Release } from './entities.ts';
import { liveReleases } from './catalog/drift.ts';
import { periodsStartingIn, chTime, type Period } from './periods.ts';
import { selectRows, SOURCES, type SourceName } from './sources.ts';

export const ALL_TEAMS = '*';
export const TIER_SCOPES = ['all', '1', '2', '3'] as const;
export type TierScope = (typeof TIER_SCOPES)[number];

export function tierScopes(kpi: KpiDefinition): TierScope[] {
  return kpi.tiered ? ['all', '1', '2', '3'] : ['all'];
}

export interface ScopedValue {
  kpi: string;
  granularity: Granularity;
  period: Period;
  team: string;
  tier: TierScope;
  evaluation: Evaluation;
}

export interface ComputeRequest {
  kpi: KpiDefinition;
  granularity: Granularity;
  /** Periods starting in [from, to). */
  from: Date;
  to: Date;
  /** Team scopes to produce; ALL_TEAMS is the whole organisation, computed from the events. */
  teams: string[];
  now: Date;
  /** Keep each value's contributing entities (a breakdown). */
  explain?: boolean;
}

const parseRows = (source: SourceName, rows: Record<string, unknown>[]) => rows.map((row) => parseEntity[source](row as never));

/**
 * Computes a KPI for a range of periods and a set of team scopes with one query: the source's
 * entities in the window (for every team when ALL_TEAMS is asked), bucketed by period, team
 * and tier here. The same code serves a recompute, the periodic refresh and a breakdown.
 */
export async function computeKpi(storage: Storage, request: ComputeRequest): Promise<ScopedValue[]> {
  const { kpi, granularity, teams } = request;
  const periods = periodsStartingIn(granularity, request.from, request.to);
  if (periods.length === 0) return [];
  const team = teams.length === 1 ? teams[0]! : ALL_TEAMS;
  const to = periods.at(-1)!.end;
  // Live state: every release deployed before the last period end; otherwise the anchor window.
  const window = kpi.anchor === 'period_end' ? { anchor: 'deployed_at', to, team } : { anchor: kpi.anchor, from: periods[0]!.start, to, team };
  const entities = byTeam(parseRows(kpi.source, await selectRows(storage, kpi.source, window)));
  const backlog = kpi.backlog ? byTeam(parseRows(kpi.source, await selectRows(storage, kpi.source, { anchor: kpi.backlog.anchor, to, team }))) : NO_ENTITIES;
  return evaluateScopes(kpi, granularity, periods, entities, backlog, request);
}

/**
 * Every KPI of `kpis`, every granularity, for the periods from `from(granularity)` up to `to`,
 * for every team scope: one query per source (the whole history of its entities), shared by
 * all the KPIs built on it. The full rebuild's path.
 */
export async function computeAll(
  storage: Storage,
  request: { kpis: readonly KpiDefinition[]; granularities: readonly Granularity[]; from: (granularity: Granularity) => Date; to: Date; teams: string[]; now: Date },
  onValues: (values: ScopedValue[]) => Promise<void>,
): Promise<void> {
  const sources = [...new Set(request.kpis.map((kpi) => kpi.source))];
  for (const source of sources) {
    const entities = byTeam(parseRows(source, await selectRows(storage, source, { anchor: SOURCES[source].since, to: request.to, team: ALL_TEAMS })));
    for (const kpi of request.kpis.filter((candidate) => candidate.source === source)) {
      for (const granularity of request.granularities) {
        const periods = periodsStartingIn(granularity, request.from(granularity), request.to);
        if (periods.length > 0) await onValues(evaluateScopes(kpi, granularity, periods, entities, kpi.backlog ? entities : NO_ENTITIES, request));
      }
    }
  }
}

/** Entities grouped by team once, ALL_TEAMS holding every one: each team scope is a lookup. */
type ByTeam = Map<string, Entity[]>;
const NO_ENTITIES: ByTeam = new Map();

function byTeam(entities: Entity[]): ByTeam {
  const groups: ByTeam = new Map([[ALL_TEAMS, entities]]);
  for (const entity of entities) {
    const group = groups.get(entity.team);
    if (group) group.push(entity);
    else groups.set(entity.team, [entity]);
  }
  return groups;
}

function evaluateScopes(
  kpi: KpiDefinition,
  granularity: Granularity,
  periods: Period[],
  entities: ByTeam,
  backlog: ByTeam,
  request: { teams: string[]; now: Date; explain?: boolean },
): ScopedValue[] {
  const liveState = kpi.anchor === 'period_end';
  const values: ScopedValue[] = [];
  for (const team of request.teams) {
    const ofTeam = entities.get(team) ?? [];
    const backlogOfTeam = backlog.get(team) ?? [];
    const byPeriod = liveState ? undefined : bucketByPeriod(kpi, ofTeam, periods);
    periods.forEach((period, index) => {
      const at = new Date(Math.min(period.end.getTime(), request.now.getTime()));
      const context = { period, at, explain: request.explain };
      const inPeriod = liveState ? liveReleases(ofTeam as Release[], at.getTime()) : byPeriod![index]!;
      for (const tier of tierScopes(kpi)) {
        const ofTier = (list: Entity[]) => (tier === 'all' ? list : list.filter((entity) => entity.tier === Number(tier)));
        const evaluation = kpi.evaluate(ofTier(inPeriod), context);
        if (kpi.backlog) Object.assign(evaluation.details, kpi.backlog.details(ofTier(backlogOfTeam), context));
        values.push({ kpi: kpi.id, granularity, period, team, tier, evaluation });
      }
    });
  }
  return values;
}

function bucketByPeriod(kpi: KpiDefinition, entities: Entity[], periods: Period[]): Entity[][] {
  const buckets: Entity[][] = periods.map(() => []);
  for (const entity of entities) {
    const anchor = kpi.anchorOf(entity);
    if (anchor === null) continue;
    // Periods are contiguous and ordered: binary search the one containing the anchor.
    let low = 0;
    let high = periods.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const period = periods[mid]!;
      if (anchor < period.start.getTime()) high = mid - 1;
      else if (anchor >= period.end.getTime()) low = mid + 1;
      else {
        buckets[mid]!.push(entity);
        break;
      }
    }
  }
  return buckets;
}

/** Writes computed values; `computedAt` is when the computation started reading, so later reads win. */
export async function storeValues(storage: Storage, values: ScopedValue[], computedAt: Date): Promise<void> {
  const stamp = computedAt.toISOString().replace('T', ' ').replace('Z', '');
  for (let start = 0; start < values.length; start += 50_000) {
    await storage.insert(
      'kpi_values',
      values.slice(start, start + 50_000).map((value) => ({
        kpi: value.kpi,
        granularity: value.granularity,
        period_start: chTime(value.period.start).slice(0, 19),
        team: value.team,
        tier: value.tier,
        value: value.evaluation.value,
        numerator: value.evaluation.numerator,
        denominator: value.evaluation.denominator,
        sample_size: value.evaluation.sample_size,
        details: JSON.stringify(value.evaluation.details),
        computed_at: stamp,
      })),
    );
  }
}

/** Teams that have sent any event: the team scopes of a rebuild and of the refresh job. */
export async function knownTeams(storage: Storage): Promise<string[]> {
  const rows = await storage.query<{ team: string }>("SELECT DISTINCT team FROM {db:Identifier}.events WHERE team != '' ORDER BY team");
  return rows.map((row) => row.team);
}
