import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '@kpi/kpi';
import { customKpisUnparsable } from '@kpi/metrics';
import { kpiDefinitions, type Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// A custom KPI stored through the API that no longer parses (the rules changed since) is left out
// of the catalog, not silently: logged with its reason and counted in /metrics.
let storage: Storage;
beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
});
afterAll(() => storage?.close());

describe('a stored custom KPI that no longer parses', () => {
  it('is left out, logged with its reason and counted', async () => {
    await kpiDefinitions.save(storage, 'legacy_kpi', { id: 'legacy_kpi', name: 'Legacy', aggregation: 'no-such-aggregation' });
    const warnings: { object: Record<string, unknown>; message: string }[] = [];
    const catalog = await Catalog.load(storage, [], { warn: (object, message) => warnings.push({ object: object as Record<string, unknown>, message }) });
    try {
      expect(catalog.get('legacy_kpi')).toBeUndefined();
      expect(catalog.unparsable.map((entry) => entry.id)).toEqual(['legacy_kpi']);
      expect(catalog.unparsable[0]!.reason).not.toBe('');
      expect(warnings).toEqual([{ object: { kpi: 'legacy_kpi', reason: catalog.unparsable[0]!.reason }, message: 'stored custom KPI no longer parses; left out of the catalog' }]);
      expect((await customKpisUnparsable.get()).values[0]!.value).toBe(1);
    } finally {
      catalog.close();
    }
  });
});
