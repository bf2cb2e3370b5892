import { describe, expect, it } from 'vitest';
import { makeEvent, sampleData, type CloudEvent } from '@kpi/events';
import { EVENT_COLUMNS } from '@kpi/storage';
import { eventLine } from '../src/rows.ts';

const origin = { topic: 'ml.incidents', partition: 2, offset: '41' };

/** The fields of one line, by column name. */
function fieldsOf(event: CloudEvent): Record<(typeof EVENT_COLUMNS)[number], string> {
  const line = eventLine(event, origin);
  expect(line.endsWith('\n')).toBe(true);
  const fields = line.slice(0, -1).split('\t');
  expect(fields).toHaveLength(EVENT_COLUMNS.length);
  return Object.fromEntries(EVENT_COLUMNS.map((column, i) => [column, fields[i]!])) as Record<(typeof EVENT_COLUMNS)[number], string>;
}

describe('eventLine (a TabSeparated row of the events table)', () => {
  it('stores time in UTC, milliseconds kept and finer digits truncated', () => {
    const at = (time: string) => fieldsOf(makeEvent('incident.resolved', { incident_id: 'i-1' }, { time })).time;
    expect(at('2026-03-01T12:00:00+02:00')).toBe('2026-03-01 10:00:00.000');
    expect(at('2026-03-01T10:00:00Z')).toBe('2026-03-01 10:00:00.000');
    expect(at('2026-03-01T10:00:00.042Z')).toBe('2026-03-01 10:00:00.042');
    expect(at('2026-03-01T10:00:00.042+00:00')).toBe('2026-03-01 10:00:00.042');
    expect(at('2026-03-01T10:00:00.123999Z')).toBe('2026-03-01 10:00:00.123');
    expect(at('2026-01-01T00:30:00.5-01:00')).toBe('2026-01-01 01:30:00.500');
  });

  it('names the team and the entity of the event, and where it was read', () => {
    const event = makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: 'inc-7', team: 'search' }, { source: 'pager', id: 'e-1' });
    const fields = fieldsOf(event);
    expect(fields).toMatchObject({ source: 'pager', id: 'e-1', type: 'incident.opened', team: 'search', entity_id: 'inc-7', topic: 'ml.incidents', partition: '2', offset: '41' });
    expect(JSON.parse(fields.data)).toEqual(event.data);
  });

  it('escapes backslash, tab, newline, carriage return and NUL and nothing else', () => {
    const event = makeEvent('incident.mitigated', { incident_id: 'i\t1', action: 'a\\b\nc' }, { source: 'src\r\0', id: 'plain "quoted"' });
    const fields = fieldsOf(event);
    expect(fields.source).toBe('src\\r\\0');
    expect(fields.entity_id).toBe('i\\t1');
    expect(fields.id).toBe('plain "quoted"');
    // The JSON text keeps its own escapes; TabSeparated escapes their backslashes once more.
    expect(fields.data).toBe(JSON.stringify(event.data).replaceAll('\\', '\\\\'));
  });
});
