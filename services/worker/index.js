// Lets `node services/worker` run the TypeScript sources directly.
import { register } from 'tsx/esm/api';
register();
await import('./src/main.ts');
