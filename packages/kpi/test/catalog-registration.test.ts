import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOG, orderedCatalog } from '../src/catalog.ts';
import type { KpiDefinition } from '../src/definition.ts';

// A built-in KPI is registered by its module's list being in catalog.ts (KPI_MODULES) and its id in
// the SPEC order; forgetting either must fail, not drop the KPI.
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const kpiModules = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((path) => /(^|\/)kpis\.ts$/.test(path));
const isDefinition = (value: unknown): value is KpiDefinition => typeof value === 'object' && value !== null && 'id' in value && 'measure' in value && 'targets' in value;

describe('the built-in catalog registration', () => {
  it('holds every KPI defined in a kpis.ts module under packages/kpi/src', async () => {
    expect(kpiModules.length).toBeGreaterThanOrEqual(4);
    const registered = new Set(CATALOG.map((kpi) => kpi.id));
    for (const path of kpiModules) {
      const exports = (await import(`${SRC}${path}`)) as Record<string, unknown>;
      const defined = Object.values(exports).flatMap((value) => (Array.isArray(value) ? value.filter(isDefinition) : []));
      expect(defined.length, path).toBeGreaterThan(0);
      for (const kpi of defined) expect(registered.has(kpi.id), `${path}: ${kpi.id} is not in the catalog`).toBe(true);
    }
  });

  it('refuses a KPI missing from the order, an id no module defines, and an id defined twice', () => {
    const [first, second] = CATALOG as KpiDefinition[];
    expect(orderedCatalog([first!, second!], [second!.id, first!.id]).map((kpi) => kpi.id)).toEqual([second!.id, first!.id]);
    expect(() => orderedCatalog([first!, second!], [first!.id])).toThrow(`KPIs missing from the catalog order (packages/kpi/src/catalog.ts): ${second!.id}`);
    expect(() => orderedCatalog([first!], [first!.id, 'not_defined'])).toThrow('the catalog order names KPIs no module defines: not_defined');
    expect(() => orderedCatalog([first!, first!], [first!.id])).toThrow(`KPI ${first!.id} is defined twice`);
  });
});
