// `node services/ingest/replay.js --topic ml.incidents --from-timestamp 2026-01-01T00:00:00Z`
import { register } from 'tsx/esm/api';
register();
await import('./src/replay-main.ts');
