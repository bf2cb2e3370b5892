export { queueCatalog, type QueueKey, type Payload, type Recompute } from './catalog.ts';
export { DirtySet } from './dirty.ts';
export { MAX_RECOMPUTE_PAUSE_MS, Postpone, RECOMPUTE_DELAY_MS, RecomputePace } from './pace.ts';
export { createQueues, reportErrors, startWorker, stopWorkers, type ErrorLog, type Queues, type Processor, type WorkerOptions } from './queues.ts';
export { createRedis, createWorkerRedis, redisReady, isRedisUnavailable, execAll } from './redis.ts';
export { PullStates, type PullState } from './pull-state.ts';
