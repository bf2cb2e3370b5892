// Lets `node services/stack` run the TypeScript sources directly.
import { register } from 'tsx/esm/api';
register();
await import('./src/main.ts');
