import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { cloudEventSchema, type CloudEvent, type EventType } from './schemas.ts';
import { eventJsonSchema } from './json-schema.ts';

type Check = (value: unknown) => value is CloudEvent;

/** Whether a zod schema holds a refinement anywhere (a rule JSON Schema cannot express). */
function hasRefinement(schema: z.ZodType): boolean {
  let found = false;
  z.toJSONSchema(schema, {
    io: 'input',
    override: (ctx) => {
      const checks = (ctx.zodSchema._zod.def as { checks?: { _zod: { def: { check: string } } }[] }).checks ?? [];
      if (checks.some((check) => check._zod.def.check === 'custom')) found = true;
    },
  });
  return found;
}

/**
 * Validators compiled by ajv from the JSON Schema, itself derived from the zod schemas: an order
 * of magnitude cheaper than zod on the ingestion hot path. They only ever accept. zod decides
 * every event they reject (with its messages) and every type holding a refinement JSON Schema
 * cannot express (allocation fractions summing to 1), so what is accepted is exactly what zod
 * accepts, as a test checks over thousands of mutated events.
 */
function compileChecks(): ReadonlyMap<EventType, Check> {
  // Mirrors zod: regexes without the `u` flag, `format` only an annotation (the pattern rules).
  const ajv = new Ajv2020({ unicodeRegExp: false, validateFormats: false, allErrors: false });
  ajv.addSchema({ ...eventJsonSchema(), $id: 'urn:kpi:events' });
  const checks = new Map<EventType, Check>();
  for (const envelope of cloudEventSchema.options) {
    const type = envelope.shape.type.value as EventType;
    if (hasRefinement(envelope)) continue;
    checks.set(type, ajv.getSchema(`urn:kpi:events#/$defs/${type}`) as unknown as Check);
  }
  return checks;
}

let compiled: ReadonlyMap<EventType, Check> | undefined;

/**
 * The check of each event type, compiled on first use: ajv's code generation costs about a second
 * of CPU, which a process that never parses events (a rebuild, an API reading values) should not
 * pay at start-up.
 */
export const compiledCheckOfType = {
  get: (type: EventType): Check | undefined => (compiled ??= compileChecks()).get(type),
  has: (type: EventType): boolean => (compiled ??= compileChecks()).has(type),
};
