import type { z } from 'zod';
import { compiledCheckOfType } from './compiled.ts';
import { CustomEventTypes, isCustomType, type CustomEvent } from './custom.ts';
import { EVENT_TYPES, cloudEventSchema, isEventType, type CloudEvent, type EventType } from './schemas.ts';

/** A valid event: a built-in type, or a custom type registered by a custom KPI. */
export type AnyEvent = CloudEvent | CustomEvent;
export type Issue = { path: string; message: string };
export type ParseResult =
  | { ok: true; event: AnyEvent }
  | { ok: false; reason: 'unknown_type' | 'schema'; error: string; issues: Issue[]; type?: unknown };
export type DecodeFailureReason = 'empty' | 'oversized' | 'invalid_json' | 'unknown_type' | 'schema';
export type DecodeResult =
  | { ok: true; event: AnyEvent }
  | { ok: false; reason: DecodeFailureReason; error: string; issues: Issue[]; type?: unknown };

// Per-parse fallback: a missing field reads "required" rather than "expected string, received undefined".
const errorMap = (iss: { code?: string; input?: unknown }) =>
  iss.code === 'invalid_type' && iss.input === undefined ? 'required' : undefined;

/** ['data', 'features', 0, 'name'] -> 'data.features[0].name' (the form DLQ records and logs use). */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : `${out ? '.' : ''}${String(seg)}`;
  return out || '(root)';
}

function failure<R extends DecodeFailureReason>(reason: R, issues: Issue[]) {
  return { ok: false as const, reason, error: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validate an already-decoded message value. Unknown `type` is told apart from other schema
 * errors; `custom` holds the custom types registered by custom KPIs (none by default).
 */
export function parseEvent(value: unknown, custom: CustomEventTypes = CustomEventTypes.none): ParseResult {
  if (!isObject(value)) return failure('schema', [{ path: '(root)', message: 'expected a JSON object' }]);
  if (isCustomType(value.type) && custom.has(value.type)) {
    const issues = custom.validate(value);
    return issues.length === 0 ? { ok: true, event: value as unknown as CustomEvent } : failure('schema', issues);
  }
  // Checked up front: the union's own message for this case lacks the offending value.
  if (value.type !== undefined && !isEventType(value.type)) {
    return {
      type: value.type,
      ...failure('unknown_type', [
      {
        path: 'type',
        message: `unknown event type ${JSON.stringify(value.type)}; expected one of ${[...EVENT_TYPES, ...custom.types()].join(', ')}`,
      },
      ]),
    };
  }
  if (compiledCheckOfType.get(value.type as EventType)?.(value)) return { ok: true, event: value };
  // The per-parse error map doubles zod's cost, so it only runs again for a message that failed.
  const r = cloudEventSchema.safeParse(value);
  if (r.success) return { ok: true, event: r.data };
  const explained = cloudEventSchema.safeParse(value, { error: errorMap });
  return failure(
    'schema',
    (explained.success ? r.error : explained.error).issues.map((i: z.core.$ZodIssue) => ({ path: formatPath(i.path), message: i.message })),
  );
}

// fatal: invalid UTF-8 is a malformed message, not something to paper over with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode a Kafka message value: size checks, UTF-8 + JSON, then the schema. Never throws. */
export function decodeEventMessage(bytes: Uint8Array | null | undefined, maxBytes: number, custom: CustomEventTypes = CustomEventTypes.none): DecodeResult {
  if (!bytes || bytes.length === 0) return failure('empty', [{ path: '(root)', message: 'message value is empty' }]);
  if (bytes.length > maxBytes) {
    return failure('oversized', [
      { path: '(root)', message: `message value is ${bytes.length} bytes; limit is ${maxBytes}` },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    return failure('invalid_json', [{ path: '(root)', message: `invalid JSON: ${(e as Error).message}` }]);
  }
  if (!isObject(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return failure('invalid_json', [{ path: '(root)', message: `expected a JSON object, got ${kind}` }]);
  }
  return parseEvent(value, custom);
}
