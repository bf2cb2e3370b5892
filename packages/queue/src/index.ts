export { queueCatalog, type QueueKey, type Payload, type Recompute } from './catalog.ts';
export { DirtySet } from './dirty.ts';
export { createQueues, startWorker, type Queues, type Processor } from './queues.ts';
export { createRedis, createWorkerRedis, redisReady, isRedisUnavailable, execAll } from './redis.ts';
