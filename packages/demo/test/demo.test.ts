import { describe, expect, it } from 'vitest';
import { CustomEventTypes, EVENT_TYPES, parseEvent } from '@kpi/events';
import { DEMO_CUSTOM_KPI, demoHistory } from '../src/index.ts';

const now = Date.parse('2026-11-24T12:00:00Z');

describe('demo organisation', () => {
  it('is reproducible: the same seed gives the same events, another seed others', () => {
    const a = demoHistory(42, now);
    const b = demoHistory(42, now);
    expect(b).toEqual(a);
    expect(demoHistory(7, now).slice(0, 50)).not.toEqual(a.slice(0, 50));
  });

  it('covers two years of every event type, all valid, in time order, with unique ids', () => {
    const events = demoHistory(42, now);
    const types = new Set(events.map((event) => event.type));
    // Every built-in type, and the custom type of the demo's own KPI.
    expect([...types].sort()).toEqual([...EVENT_TYPES, DEMO_CUSTOM_KPI.source].sort());
    const custom = CustomEventTypes.compile(new Map([[DEMO_CUSTOM_KPI.source, DEMO_CUSTOM_KPI.schema]]));
    expect(events.every((event) => parseEvent(event, custom).ok)).toBe(true);
    expect(new Set(events.map((event) => `${event.source}/${event.id}`)).size).toBe(events.length);
    const times = events.map((event) => Date.parse(event.time));
    expect(times.every((time, i) => i === 0 || time >= times[i - 1]!)).toBe(true);
    expect(times[0]!).toBeLessThan(now - 700 * 86_400_000);
    expect(times.at(-1)!).toBeLessThanOrEqual(now);
    const teams = new Set(events.map((event) => (event.data as { team?: string }).team).filter(Boolean));
    expect(teams.size).toBeGreaterThanOrEqual(5);
    const models = new Set(events.filter((event) => event.type === 'release.deployed').map((event) => (event.data as { model_id: string }).model_id));
    expect(models.size).toBeGreaterThanOrEqual(20);
  });
});
