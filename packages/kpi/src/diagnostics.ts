import { identifier, param, sql, type Storage } from '@kpi/storage';
import type { Source } from './source.ts';

/**
 * Entities with lifecycle events whose defining event has not arrived: counted nowhere until it
 * does (a mitigation of an incident never opened, a readout of an experiment never started).
 */
export async function waitingForDefiningEvent(storage: Storage, source: Source): Promise<{ total: number; sample: { entity_id: string; types: string[] }[] }> {
  const planning = source.planning;
  if (planning.kind !== 'entity' || !planning.definingType) return { total: 0, sample: [] };
  const rows = await storage.query<{ entity_id: string; types: string[] }>(sql`
    SELECT entity_id, arraySort(groupUniqArray(type)) AS types
    FROM {db:Identifier}.${identifier(planning.table)}
    GROUP BY entity_id
    HAVING countIf(type = ${param(planning.definingType, 'String')}) = 0
    ORDER BY entity_id`);
  return { total: rows.length, sample: rows.slice(0, 100) };
}
