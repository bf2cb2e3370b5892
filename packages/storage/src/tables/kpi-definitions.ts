import { z } from 'zod';
import type { Storage } from '../client.ts';

/** `kpi_definitions` (migration 012): custom KPI definitions set through the API, the latest per id. */
const row = z.object({ id: z.string(), definition: z.string(), deleted: z.coerce.number(), updated_at: z.string() });
export type StoredDefinition = { id: string; definition: unknown; deleted: boolean };

export const kpiDefinitions = {
  async list(storage: Storage): Promise<StoredDefinition[]> {
    const rows = z.array(row).parse(await storage.query('SELECT id, definition, deleted, toString(updated_at) AS updated_at FROM {db:Identifier}.kpi_definitions FINAL ORDER BY id'));
    return rows.map((stored) => ({ id: stored.id, definition: JSON.parse(stored.definition), deleted: stored.deleted === 1 }));
  },

  /** A token that changes whenever a definition is saved or deleted, in any process. */
  async version(storage: Storage): Promise<string> {
    const [stamp] = await storage.query<{ version: string }>("SELECT concat(toString(count()), '|', toString(max(updated_at))) AS version FROM {db:Identifier}.kpi_definitions");
    return stamp?.version ?? '';
  },

  async save(storage: Storage, id: string, definition: unknown, deleted = false): Promise<void> {
    await storage.insert('kpi_definitions', [{ id, definition: JSON.stringify(definition ?? null), deleted: deleted ? 1 : 0, updated_at: new Date().toISOString().replace('T', ' ').replace('Z', '') }]);
  },
};
