// `node packages/reports/cli.js --quarter 2026-Q1 [--team x] --format html|md|json|pdf --out file`
import { runBuilt } from '../../scripts/built.mjs';
await runBuilt('packages/reports/dist/cli.js');
