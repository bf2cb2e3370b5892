import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { storeEvents } from '@kpi/ingest';
import { alertTriage, type Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// Team "busy" fired three alerts after team "quiet" fired its one; one of busy's was triaged.
// One read serves every team scope: it must hold each team's latest, not only the organisation's.
let storage: Storage;
const fired = (team: string, id: string, minute: number) =>
  makeEvent('alert.fired', { alert_id: id, team, name: `Drift-${id}`, severity: 'warning', labels: { feature: id } }, { source: 'alertmanager', id: `${id}-fired`, time: `2026-11-02T10:${String(minute).padStart(2, '0')}:00Z` });

beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
  await storeEvents(
    storage,
    [
      fired('quiet', 'q1', 1),
      fired('busy', 'b1', 10),
      fired('busy', 'b2', 20),
      fired('busy', 'b3', 30),
      makeEvent('alert.triaged', { alert_id: 'b2', team: 'busy', actionable: true }, { source: 'kpi-triage', id: 'b2-triaged', time: '2026-11-02T11:00:00Z' }),
    ],
    'triage-test',
    'triage-test',
  );
});
afterAll(() => storage?.close());

describe('the triage list', () => {
  it("holds every team's latest alerts, newest first, however many another team fired since", async () => {
    const untriaged = await alertTriage.latestPerTeam(storage, { triaged: false, limit: 1 });
    expect(untriaged.map((alert) => [alert.team, alert.alert_id])).toEqual([['busy', 'b3'], ['quiet', 'q1']]);

    const all = await alertTriage.latestPerTeam(storage, { triaged: undefined, limit: 2 });
    expect(all.map((alert) => alert.alert_id)).toEqual(['b3', 'b2', 'q1']);
    expect(all.find((alert) => alert.alert_id === 'b2')).toMatchObject({ triaged: true, actionable: true, name: 'Drift-b2', labels: { feature: 'b2' } });

    const triaged = await alertTriage.latestPerTeam(storage, { triaged: true, limit: 5 });
    expect(triaged.map((alert) => alert.alert_id)).toEqual(['b2']);
  });

  it('has a version that changes when an alert event is stored, and only then', async () => {
    const before = await alertTriage.version(storage);
    await storeEvents(storage, [makeEvent('survey.response', { team: 'busy', score: 4 }, { source: 'survey', id: 'not-an-alert', time: '2026-11-02T12:00:00Z' })], 'triage-test', 'triage-test-survey');
    expect(await alertTriage.version(storage)).toBe(before);
    await storeEvents(storage, [makeEvent('alert.triaged', { alert_id: 'q1', team: 'quiet', actionable: false }, { source: 'kpi-triage', id: 'q1-triaged', time: '2026-11-02T12:00:00Z' })], 'triage-test', 'triage-test-q1');
    expect(await alertTriage.version(storage)).not.toBe(before);
  });
});
