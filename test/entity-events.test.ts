import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, makeEvent, sampleData } from '@kpi/events';
import { eventLine, insertEventLines } from '@kpi/ingest';
import { SOURCES } from '@kpi/kpi';
import type { Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// entity_events (migration 007) is where recompute planning looks up an entity's event times.
let storage: Storage;
beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
});
afterAll(() => storage?.close());

describe('entity_events', () => {
  it('holds the events of exactly the entities with a lifecycle (a defining event), as they are inserted', async () => {
    const events = EVENT_TYPES.map((type, i) => makeEvent(type, sampleData[type], { source: 'entity-test', id: `e-${i}`, time: '2026-03-01T10:00:00Z' }));
    await insertEventLines(storage, events.map((event, i) => eventLine(event, { topic: 't', partition: 0, offset: String(i) })).join(''), 'entity-test');
    const stored = await storage.query<{ type: string; entity_id: string; team: string; time: string }>(
      'SELECT type, entity_id, team, time FROM {db:Identifier}.entity_events ORDER BY type',
    );
    const lifecycleTypes = Object.values(SOURCES).flatMap((source) => ('definingType' in source ? [...source.eventTypes] : []));
    expect(stored.map((row) => row.type)).toEqual([...lifecycleTypes].sort());
    const opened = stored.find((row) => row.type === 'incident.opened')!;
    expect(opened).toMatchObject({ entity_id: sampleData['incident.opened'].incident_id, team: sampleData['incident.opened'].team });
    expect(Date.parse(opened.time)).toBe(Date.parse('2026-03-01T10:00:00Z'));
  });
});
