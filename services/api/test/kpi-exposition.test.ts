import { describe, expect, it } from 'vitest';
import { CATALOG, granularitiesOf, GRANULARITIES, periodOf, type ValueReader } from '@kpi/kpi';
import { kpiValues, type StoredKpiValue } from '@kpi/storage';
import { exposedParts, kpiExposition, type PartCache } from '../src/routes/kpi-metrics.ts';

const now = new Date('2026-05-14T10:00:00Z');
const kpi = CATALOG.find((definition) => granularitiesOf(definition).includes('month'))!;
const catalog = [kpi];
const teams = ['search', 'ads'];

/** Served values of the month under way, per team, with a version per (granularity, team) scope. */
function servedValues() {
  const monthly = new Map<string, number>(teams.map((team, i) => [team, 10 + i]));
  const versions = new Map<string, number>();
  const reader: ValueReader & { scopeVersion(granularity: string, team: string): string } = {
    read: (scope) =>
      scope.granularity !== 'month' || scope.tier !== 'all'
        ? []
        : scope.teams.flatMap((team): StoredKpiValue[] =>
            monthly.has(team) ? [{ kpi: kpi.id, team, start: kpiValues.startKey(periodOf('month', now).start), value: monthly.get(team)!, numerator: null, denominator: null, sample_size: 3, details: {} }] : [],
          ),
    scopeVersion: (granularity, team) => String(versions.get(`${granularity}|${team}`) ?? 0),
  };
  const set = (team: string, value: number) => {
    monthly.set(team, value);
    versions.set(`month|${team}`, (versions.get(`month|${team}`) ?? 0) + 1);
  };
  return { reader, set };
}

/** Renders the exposition through the kept parts, counting the parts rendered again. */
async function render(parts: ReturnType<typeof exposedParts>, reader: ValueReader, at: Date, definitions = catalog) {
  const rendered: string[] = [];
  const cache = parts(definitions, Math.floor(at.getTime() / 60_000));
  const counting: PartCache = (granularity, team, renderPart) => cache(granularity, team, () => (rendered.push(`${granularity}|${team}`), renderPart()));
  return { text: (await kpiExposition(reader, definitions, teams, [], at, counting)).toString('utf8'), rendered };
}

const valueOf = (text: string, team: string) => new RegExp(`^kpi_value\\{kpi="${kpi.id}",team="${team}",tier="all",granularity="month"\\} (\\S+)$`, 'm').exec(text)?.[1];

describe('/v1/metrics exposition, part by part', () => {
  it('renders again only the scopes whose values changed, with their new values', async () => {
    const { reader, set } = servedValues();
    const parts = exposedParts(() => reader);
    const first = await render(parts, reader, now);
    expect(first.rendered).toHaveLength(GRANULARITIES.length * teams.length);
    expect([valueOf(first.text, 'search'), valueOf(first.text, 'ads')]).toEqual(['10', '11']);

    const unchanged = await render(parts, reader, now);
    expect(unchanged.rendered).toEqual([]);
    expect(unchanged.text).toBe(first.text);

    set('search', 42);
    const changed = await render(parts, reader, now);
    expect(changed.rendered).toEqual(['month|search']);
    expect([valueOf(changed.text, 'search'), valueOf(changed.text, 'ads')]).toEqual(['42', '11']);
    // The same exposition as rendered from scratch.
    expect(changed.text).toBe((await kpiExposition(reader, catalog, teams, [], now)).toString('utf8'));
  });

  it('renders every part again in the next minute (forecasts move with the clock) and with another catalog', async () => {
    const { reader } = servedValues();
    const parts = exposedParts(() => reader);
    await render(parts, reader, now);
    expect((await render(parts, reader, new Date(now.getTime() + 60_000))).rendered).toHaveLength(GRANULARITIES.length * teams.length);
    expect((await render(parts, reader, new Date(now.getTime() + 60_000), [...catalog])).rendered).toHaveLength(GRANULARITIES.length * teams.length);
  });
});
