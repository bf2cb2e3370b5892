import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, cloudEventSchema, compiledCheckOfType, makeEvent, parseEvent, sampleData, type EventType } from '../src/index.ts';

// Deterministic pseudo-random numbers (mulberry32), so a failure reproduces.
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Values that sit on either side of the schemas' rules: types, bounds, lengths (in characters and
// in UTF-16 units), timestamp forms, team slugs, enum members.
const REPLACEMENTS: unknown[] = [
  null, true, false, 0, -1, 1, 2, 3, 4, 1.5, 0.5, 5, 6, 1e21, -0.0001,
  '', 'x', 'X Y', 'a'.repeat(128), 'a'.repeat(129), 'a'.repeat(256), 'a'.repeat(257), '🚀'.repeat(128), '🚀'.repeat(129),
  '2026-03-01T10:00:00Z', '2026-03-01T10:00:00.123456+05:30', '2026-02-30T10:00:00Z', '2026-03-01T10:00:00', '2026-03-01t10:00:00z',
  '2026-03-01T24:00:00Z', '2026-03-01 10:00:00Z', '2024-02-29T00:00:00-00:00', '2026-03-01T10:00:00+2:00',
  'search', 'Search', '-x', 'a'.repeat(64), 'a'.repeat(65), 'team_1', 'sev0', 'sev4', 'production', 'ship', 'model', '1.0', 'application/json',
  [], {}, [{}], ['x'], { name: 'f', critical: true, drift_monitored: false }, { n: 10, mean: 1, variance: 0 }, { n: 1.5, mean: 1, variance: -1 },
];

type Json = Record<string, unknown> | unknown[];
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => [[...prefix, key], ...paths((value as Record<string | number, unknown>)[key], [...prefix, key])]);
}

function mutate(event: Record<string, unknown>, next: () => number): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  const pick = <T,>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  for (let n = 1 + Math.floor(next() * 2); n > 0; n--) {
    const path = pick(paths(copy));
    const parent = path.slice(0, -1).reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, copy);
    const key = path.at(-1)!;
    const kind = next();
    if (kind < 0.2 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
    else if (kind < 0.3 && !Array.isArray(parent)) (parent as Record<string, unknown>)[`extra_${n}`] = pick(REPLACEMENTS);
    else if (kind < 0.35 && path.length === 1) copy.type = pick(EVENT_TYPES);
    else (parent as Record<string | number, unknown>)[key] = pick(REPLACEMENTS);
  }
  return JSON.parse(JSON.stringify(copy)) as Record<string, unknown>;
}

describe('compiled checks (the ingestion fast path)', () => {
  it('exist for every type except those with refinements JSON Schema cannot express', () => {
    expect(EVENT_TYPES.filter((type) => !compiledCheckOfType.has(type))).toEqual(['experiment.started']);
    const unbalanced = JSON.parse(JSON.stringify(makeEvent('experiment.started', sampleData['experiment.started'])));
    unbalanced.data.allocation = { control: 0.5, treatment: 0.4 };
    expect(parseEvent(unbalanced)).toMatchObject({ ok: false, error: expect.stringMatching(/sum to 1/) });
  });

  it('accept exactly what zod accepts, and parsing returns what zod returns, over mutated events', () => {
    const next = random(20261124);
    let accepted = 0;
    let rejected = 0;
    for (const type of EVENT_TYPES as readonly EventType[]) {
      const base = JSON.parse(JSON.stringify(makeEvent(type, sampleData[type], { id: 'e-1', source: 'fuzz', time: '2026-03-01T10:00:00Z' })));
      for (let i = 0; i < 600; i++) {
        const value = i === 0 ? base : mutate(base, next);
        const byZod = cloudEventSchema.safeParse(value);
        const parsed = parseEvent(value);
        const where = `${type} #${i}: ${JSON.stringify(value).slice(0, 400)}`;
        expect(parsed.ok, where).toBe(byZod.success);
        const check = compiledCheckOfType.get(value.type as EventType);
        if (check) expect(check(value), where).toBe(byZod.success);
        if (byZod.success && parsed.ok) {
          expect(parsed.event, where).toEqual(byZod.data);
          accepted++;
        } else rejected++;
      }
    }
    // Both sides of the rules were exercised, not just one.
    expect(accepted).toBeGreaterThan(1_000);
    expect(rejected).toBeGreaterThan(1_000);
  });
});
