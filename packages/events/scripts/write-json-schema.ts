// Writes schemas/events.schema.json from the zod schemas (the JSON Schema is never hand-edited).
//   node --import tsx packages/events/scripts/write-json-schema.ts [--check] [--out <file>]
// --check: exit 1 if the file is missing or not current (for CI); --out: alternate path (tests).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEventJsonSchema } from '../src/json-schema.ts';

const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const file =
  outArg >= 0 && args[outArg + 1]
    ? resolve(args[outArg + 1]!)
    : fileURLToPath(new URL('../../../schemas/events.schema.json', import.meta.url));

const expected = renderEventJsonSchema();
const current = existsSync(file) ? readFileSync(file, 'utf8') : null;

if (args.includes('--check')) {
  if (current !== expected) {
    console.error(`${file} is ${current === null ? 'missing' : 'stale'}; run: pnpm schemas`);
    process.exit(1);
  }
  console.log(`${file} is up to date`);
} else if (current !== expected) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, expected);
  console.log(`wrote ${file}`);
} else {
  console.log(`${file} already up to date`);
}
