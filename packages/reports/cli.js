// `node packages/reports/cli.js --quarter 2026-Q1 [--team x] --format html|md|json|pdf --out file`
import { register } from 'tsx/esm/api';
register();
await import('./src/cli.ts');
