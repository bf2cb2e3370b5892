export { queueCatalog, type QueueKey, type Payload, type Recompute } from './catalog.ts';
export { DirtySet } from './dirty.ts';
export { createQueues, createRedis, startWorker, type Queues, type Processor } from './queues.ts';
