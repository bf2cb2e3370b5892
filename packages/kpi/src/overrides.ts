import { z } from 'zod';
import { ConfigError, type ConfigFile } from '@kpi/config';
import type { Storage } from '@kpi/storage';
import { kpiById } from './catalog.ts';
import { ALL_TEAMS } from './engine/compute.ts';
import { storedOverrides, targetOverrideSchema, type TargetOverride } from './targets.ts';

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
