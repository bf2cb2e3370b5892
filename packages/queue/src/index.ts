export { queueCatalog, recomputeDedupId, GRANULARITIES, type Granularity, type QueueKey, type Payload } from './catalog.ts';
export { createQueues, createRedis, startWorker, type Queues, type Processor } from './queues.ts';
