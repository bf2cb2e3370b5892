export * from './schemas.ts';
export * from './parse.ts';
export * from './json-schema.ts';
export * from './fixtures.ts';
export * from './entity.ts';
export { compiledCheckOfType } from './compiled.ts';
export { CustomEventTypes, compileSchema, isCustomType, CUSTOM_TYPE_PATTERN, type CustomEvent, type CustomEventType } from './custom.ts';
