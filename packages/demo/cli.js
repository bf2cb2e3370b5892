// `node packages/demo/cli.js [--seed 42] [--trickle]`: the demo organisation into KAFKA_BROKERS.
import { register } from 'tsx/esm/api';
register();
await import('./src/cli.ts');
