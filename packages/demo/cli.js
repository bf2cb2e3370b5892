// `node packages/demo/cli.js [--seed 42] [--trickle]`: the demo organisation into KAFKA_BROKERS.
import { runBuilt } from '../../scripts/built.mjs';
await runBuilt('packages/demo/dist/cli.js');
