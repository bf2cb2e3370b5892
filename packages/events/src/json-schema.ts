import { z } from 'zod';
import { cloudEventSchema, schemaRegistry } from './schemas.ts';

/**
 * JSON Schema (draft 2020-12) of a message value: a `oneOf` over the event types, each in `$defs`
 * under its type name. Describes the wire format (io: 'input'), so optional-with-default fields
 * stay optional. Refinements (e.g. allocation summing to 1) are not representable and are only
 * enforced by the zod schemas.
 */
export function eventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(cloudEventSchema, {
    target: 'draft-2020-12',
    io: 'input',
    metadata: schemaRegistry,
    unrepresentable: 'throw',
  });
}

/** Exact text of schemas/events.schema.json (stable key order, trailing newline). */
export function renderEventJsonSchema(): string {
  return `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
}
