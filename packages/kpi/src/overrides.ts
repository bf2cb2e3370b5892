import { z } from 'zod';
import { ConfigError, type ConfigFile } from '@kpi/config';
import type { Storage } from '@kpi/storage';
import { kpiById } from './catalog.ts';
import { ALL_TEAMS } from './engine/compute.ts';
import { targetOverrideSchema, type TargetOverride } from './targets.ts';

/**
 * Target overrides: a deployment's file (KPI_TARGETS_FILE, YAML or JSON, a list of
 * {team, kpi, op, value, granularity?}; read once into the configuration) and the ones set
 * through the admin API, which win. A file that does not validate stops start-up naming the entry.
 */
export function parseTargetsFile(file: ConfigFile | undefined): TargetOverride[] {
  if (!file) return [];
  const problem = (message: string) => new ConfigError(`invalid configuration: ${file.variable}=${JSON.stringify(file.path)}: ${message}`);
  const result = z.array(targetOverrideSchema).safeParse(file.document ?? []);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw problem(`[${issue.path.join('.')}] ${issue.message}`);
  }
  const unknown = result.data.find((override) => !kpiById(override.kpi));
  if (unknown) throw problem(`unknown KPI ${unknown.kpi}`);
  // `all` in the file is the whole organisation's scope.
  return result.data.map((override) => ({ ...override, team: override.team === 'all' ? ALL_TEAMS : override.team }));
}

export async function storedOverrides(storage: Storage): Promise<TargetOverride[]> {
  const rows = await storage.query<{ kpi: string; team: string; granularity: string; op: '>=' | '<='; value: number }>(
    'SELECT kpi, team, granularity, op, value FROM {db:Identifier}.target_overrides FINAL WHERE deleted = 0 ORDER BY kpi, team, granularity',
  );
  return rows.map((row) => ({ kpi: row.kpi, team: row.team, op: row.op, value: row.value, ...(row.granularity ? { granularity: row.granularity as TargetOverride['granularity'] } : {}) }));
}

/** Overrides in force: the API's, then the file's for (kpi, team, granularity) the API does not set. */
export async function effectiveOverrides(storage: Storage, fromFile: TargetOverride[]): Promise<TargetOverride[]> {
  const stored = await storedOverrides(storage);
  const key = (override: TargetOverride) => `${override.kpi}|${override.team}|${override.granularity ?? ''}`;
  const set = new Set(stored.map(key));
  return [...stored, ...fromFile.filter((override) => !set.has(key(override)))];
}

export async function saveOverride(storage: Storage, override: TargetOverride, deleted = false): Promise<void> {
  await storage.insert('target_overrides', [
    {
      kpi: override.kpi,
      team: override.team,
      granularity: override.granularity ?? '',
      op: override.op,
      value: override.value,
      deleted: deleted ? 1 : 0,
      updated_at: new Date().toISOString().replace('T', ' ').replace('Z', ''),
    },
  ]);
}
