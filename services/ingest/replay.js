// `node services/ingest/replay.js --topic ml.incidents --from-timestamp 2026-01-01T00:00:00Z`
import { runBuilt } from '../../scripts/built.mjs';
await runBuilt('services/ingest/dist/replay-main.js');
