import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** The CDEvents 0.4.1 JSON Schemas, vendored with their licence (see vendor/cdevents-spec-0.4.1/README.md). */
const SCHEMAS = new URL('../vendor/cdevents-spec-0.4.1/schemas/', import.meta.url);
export const CDEVENTS_SPEC_VERSION = '0.4.1';

export interface CdeventSchema {
  /** The full type the schema accepts, e.g. `dev.cdevents.service.deployed.0.2.0`. */
  type: string;
  validate: ValidateFunction;
}

let compiled: Map<string, CdeventSchema> | undefined;

/** Every event schema, keyed by `<subject>.<predicate>` (`service.deployed`); compiled once, on first use. */
function schemas(): Map<string, CdeventSchema> {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  // ajv-formats is CommonJS: under ESM its plugin is the default export's `default`.
  addFormats.default(ajv);
  const read = (path: URL) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  for (const file of readdirSync(new URL('links/', SCHEMAS))) ajv.addSchema(read(new URL(`links/${file}`, SCHEMAS)));
  compiled = new Map();
  for (const file of readdirSync(SCHEMAS).filter((name) => name.endsWith('.json'))) {
    const schema = read(new URL(file, SCHEMAS));
    const type = String(schema.properties?.context?.properties?.type?.enum?.[0] ?? '');
    const match = /^dev\.cdevents\.([a-z]+)\.([a-z]+)\.\d+\.\d+\.\d+$/.exec(type);
    if (match) compiled.set(`${match[1]}.${match[2]}`, { type, validate: ajv.compile(schema) });
  }
  return compiled;
}

/** The schema of a subject and predicate (`service.deployed`), if CDEvents 0.4 defines one. */
export const cdeventSchema = (kind: string): CdeventSchema | undefined => schemas().get(kind);

/** The first schema error of a CDEvent, as `/subject/content must have required property 'artifactId'`; undefined when valid. */
export function schemaError(schema: CdeventSchema, cdevent: unknown): string | undefined {
  if (schema.validate(cdevent)) return undefined;
  const [error] = schema.validate.errors ?? [];
  if (!error) return 'invalid';
  const allowed = Array.isArray(error.params.allowedValues) ? ` (${error.params.allowedValues.join(', ')})` : '';
  const extra = typeof error.params.additionalProperty === 'string' ? ` (${error.params.additionalProperty})` : '';
  return `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}${allowed}${extra}`;
}
