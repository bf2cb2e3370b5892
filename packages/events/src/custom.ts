import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { z } from 'zod';
import type { Issue } from './parse.ts';
import { TEAM_PATTERN, timestamp } from './schemas.ts';

/**
 * Event types an organisation defines with its custom KPIs (SPEC §3, §5b): `custom.<name>`, whose
 * `data` JSON Schema comes with the definition. Validated like the built-in types: the
 * CloudEvents envelope, a `data.team`, then the registered schema (compiled once by ajv).
 */
export const CUSTOM_TYPE_PATTERN = /^custom\.[a-z][a-z0-9_.]{1,63}$/;

export type CustomEventType = `custom.${string}`;

export interface CustomEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: CustomEventType;
  time: string;
  datacontenttype?: 'application/json';
  data: { team: string } & Record<string, unknown>;
}

export const isCustomType = (type: unknown): type is CustomEventType => typeof type === 'string' && CUSTOM_TYPE_PATTERN.test(type);

const customEnvelope = z.looseObject({
  specversion: z.literal('1.0', { error: 'expected "1.0"' }),
  id: z.string().min(1).max(128),
  source: z.string().min(1).max(256),
  type: z.string().regex(CUSTOM_TYPE_PATTERN),
  time: timestamp,
  datacontenttype: z.literal('application/json', { error: 'expected "application/json"' }).optional(),
  data: z.looseObject({ team: z.string({ error: 'required' }).regex(TEAM_PATTERN, `expected a team slug matching ${TEAM_PATTERN.source}`) }),
});

type DataCheck = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** The registered custom types: each type's compiled data check. */
export class CustomEventTypes {
  private constructor(private readonly checks: ReadonlyMap<string, DataCheck>) {}

  static readonly none = new CustomEventTypes(new Map());

  /**
   * Compiles each type's JSON Schema; a schema that does not compile throws an Error naming the
   * type (definitions are checked with `compileSchema` before they are saved).
   */
  static compile(schemas: ReadonlyMap<string, object>): CustomEventTypes {
    const ajv = newAjv();
    return new CustomEventTypes(new Map([...schemas].map(([type, schema]) => [type, compileWith(ajv, type, schema)])));
  }

  has(type: string): boolean {
    return this.checks.has(type);
  }

  types(): string[] {
    return [...this.checks.keys()].sort();
  }

  /** Issues of a value against its custom type; an empty list when it is valid. */
  validate(value: Record<string, unknown>): Issue[] {
    const envelope = customEnvelope.safeParse(value);
    if (!envelope.success) return envelope.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
    const check = this.checks.get(String(value.type))!;
    if (check(value.data)) return [];
    return (check.errors ?? []).map((error) => ({ path: `data${error.instancePath.replaceAll('/', '.')}`, message: error.message ?? 'invalid' }));
  }
}

const newAjv = () => new Ajv2020({ allErrors: true, strict: false, validateFormats: false });

function compileWith(ajv: Ajv2020, type: string, schema: object): DataCheck {
  try {
    return ajv.compile(schema) as DataCheck;
  } catch (error) {
    throw new Error(`schema of ${type}: ${(error as Error).message}`);
  }
}

/** Checks that a JSON Schema compiles; the error message says why not. */
export function compileSchema(type: string, schema: object): void {
  compileWith(newAjv(), type, schema);
}
