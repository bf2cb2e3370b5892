import { describe, expect, it } from 'vitest';
import { makeEvent, sampleData } from '@kpi/events';
import { EVENT_COLUMNS, encodeEventRows, eventRow } from '../src/rows.ts';

const origin = { topic: 'ml.incidents', partition: 2, offset: '41' };

describe('eventRow', () => {
  it('stores time in UTC, milliseconds kept and finer digits truncated', () => {
    const at = (time: string) => eventRow(makeEvent('incident.resolved', { incident_id: 'i-1' }, { time }), origin).time;
    expect(at('2026-03-01T12:00:00+02:00')).toBe('2026-03-01 10:00:00.000');
    expect(at('2026-03-01T10:00:00Z')).toBe('2026-03-01 10:00:00.000');
    expect(at('2026-03-01T10:00:00.042Z')).toBe('2026-03-01 10:00:00.042');
    expect(at('2026-03-01T10:00:00.042+00:00')).toBe('2026-03-01 10:00:00.042');
    expect(at('2026-03-01T10:00:00.123999Z')).toBe('2026-03-01 10:00:00.123');
    expect(at('2026-01-01T00:30:00.5-01:00')).toBe('2026-01-01 01:30:00.500');
  });

  it('names the team and the entity of the event, and where it was read', () => {
    const event = makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: 'inc-7', team: 'search' }, { source: 'pager', id: 'e-1' });
    expect(eventRow(event, origin)).toMatchObject({ source: 'pager', id: 'e-1', type: 'incident.opened', team: 'search', entity_id: 'inc-7', topic: 'ml.incidents', partition: 2, offset: '41' });
    expect(JSON.parse(eventRow(event, origin).data)).toEqual(event.data);
  });
});

describe('encodeEventRows (TabSeparated)', () => {
  const row = eventRow(makeEvent('incident.mitigated', { incident_id: 'i\t1', action: 'a\\b\nc' }, { source: 'src\r\0', id: 'plain' }), origin);

  it('writes one line per row, one field per column, in EVENT_COLUMNS order', () => {
    const lines = encodeEventRows([row, { ...row, id: 'second' }]).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[0]!.split('\t')).toHaveLength(EVENT_COLUMNS.length);
    expect(lines[1]!.split('\t')[EVENT_COLUMNS.indexOf('id')]).toBe('second');
  });

  it('escapes backslash, tab, newline, carriage return and NUL and nothing else', () => {
    const fields = encodeEventRows([row]).slice(0, -1).split('\t');
    const at = (column: (typeof EVENT_COLUMNS)[number]) => fields[EVENT_COLUMNS.indexOf(column)];
    expect(at('source')).toBe('src\\r\\0');
    expect(at('entity_id')).toBe('i\\t1');
    // The JSON text keeps its own escapes; TabSeparated escapes their backslashes once more.
    expect(at('data')).toBe(JSON.stringify(JSON.parse(row.data)).replaceAll('\\', '\\\\'));
    expect(at('id')).toBe('plain');
    expect(at('offset')).toBe('41');
  });
});
