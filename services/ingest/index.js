// `node services/ingest`: runs the role from the build (scripts/build.mjs), rebuilt first when a source changed.
import { runBuilt } from '../../scripts/built.mjs';
await runBuilt('services/ingest/dist/main.js');
