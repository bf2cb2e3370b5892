import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, eventJsonSchema, renderEventJsonSchema, sampleData } from '../src/index.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'packages/events/scripts/write-json-schema.ts');
const runScript = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, encoding: 'utf8' });

describe('JSON Schema', () => {
  const schema = eventJsonSchema() as { oneOf: { $ref: string }[]; $defs: Record<string, unknown> };

  it('has one oneOf entry and one $def per type', () => {
    expect(schema.oneOf.map((s) => s.$ref)).toEqual(EVENT_TYPES.map((t) => `#/$defs/${t}`));
    for (const t of EVENT_TYPES) expect(schema.$defs).toHaveProperty([t]);
  });

  it('is a valid draft 2020-12 schema that agrees with zod on samples', () => {
    // `format` is only an annotation in 2020-12; the timestamp rule is enforced by its `pattern`.
    const validate = new Ajv2020({ allErrors: true, validateFormats: false }).compile(schema);
    const ev = (type: string, data: unknown) => ({ specversion: '1.0', id: '1', source: 's', type, time: '2026-03-01T10:00:00+02:00', data });
    for (const t of EVENT_TYPES) expect(validate(ev(t, sampleData[t])), `${t}: ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(validate(ev('serving.window', { ...sampleData['serving.window'], tier: 4 }))).toBe(false);
    expect(validate(ev('release.exploded', {}))).toBe(false);
    expect(validate({ ...ev('incident.resolved', { incident_id: 'i' }), time: '2026-03-01T10:00:00' })).toBe(false);
  });

  it('is deterministic and the committed schemas/events.schema.json is current', () => {
    expect(renderEventJsonSchema()).toBe(renderEventJsonSchema());
    expect(readFileSync(join(root, 'schemas/events.schema.json'), 'utf8')).toBe(renderEventJsonSchema());
  });

  it('write-json-schema --check detects a stale or missing file; writing makes it current', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'events-schema-')), 'events.schema.json');
    expect(runScript('--check', '--out', out).status).toBe(1); // missing
    writeFileSync(out, '{}\n');
    const stale = runScript('--check', '--out', out);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/stale/);
    execFileSync(process.execPath, ['--import', 'tsx', script, '--out', out], { cwd: root });
    expect(readFileSync(out, 'utf8')).toBe(renderEventJsonSchema());
    expect(runScript('--check', '--out', out).status).toBe(0);
  });
});
