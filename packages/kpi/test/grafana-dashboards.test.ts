import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS_DIR, generateDashboards, thresholdSteps } from '../../../dashboards/grafana/generate.ts';
import { builtInKpi } from '../src/index.ts';

// The Grafana dashboards that carry the catalog are generated from it (dashboards/grafana/generate.ts,
// `npm run grafana:generate`): a committed file that differs was edited by hand or not regenerated
// after a catalog change. A pure test: no ClickHouse, Kafka or Redis.
describe('Grafana dashboards generated from the KPI catalog', () => {
  const generated = generateDashboards();

  it.each(Object.keys(generated))('%s is what the generator makes (run npm run grafana:generate)', (file) => {
    expect(readFileSync(`${DASHBOARDS_DIR}${file}`, 'utf8') === generated[file], `${file} differs from the generator's output`).toBe(true);
  });

  it("restores the catalog's fields of a hand-laid-out dashboard edited by hand", () => {
    const committed = readFileSync(`${DASHBOARDS_DIR}kpi-experiments.json`, 'utf8');
    // SRM failure rate's threshold (target <= 0.05) changed by hand.
    const edited = committed.replaceAll('"value": 0.050000001', '"value": 0.2');
    expect(edited).not.toBe(committed);
    const read = (file: string) => (file === 'kpi-experiments.json' ? edited : readFileSync(`${DASHBOARDS_DIR}${file}`, 'utf8'));
    expect(generateDashboards(read)['kpi-experiments.json']).toBe(committed);
  });

  it('colours a value green exactly where its catalog target is met', () => {
    // change_failure_rate <= 0.15 at every granularity; releases_delivered's target depends on the granularity.
    expect(thresholdSteps(builtInKpi('change_failure_rate'), 'all')).toEqual([{ color: 'green', value: null }, { color: 'red', value: 0.150000001 }]);
    expect(thresholdSteps(builtInKpi('readiness_first_pass_rate'), 'all')).toEqual([{ color: 'red', value: null }, { color: 'green', value: 0.8 }]);
    expect(thresholdSteps(builtInKpi('sev0_incidents'), 'all')).toEqual([{ color: 'green', value: null }, { color: 'red', value: 1 }]);
    expect(thresholdSteps(builtInKpi('releases_delivered'), 'all')).toEqual([{ color: 'text', value: null }]);
    // A tier-1-only target colours the tier-1 panels only.
    expect(thresholdSteps(builtInKpi('time_to_mitigate_hours'), 'all')).toEqual([{ color: 'text', value: null }]);
    expect(thresholdSteps(builtInKpi('time_to_mitigate_hours'), '1')).toEqual([{ color: 'green', value: null }, { color: 'red', value: 72.000000001 }]);
  });
});
