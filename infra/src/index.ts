export { startLocalKafka, ensureKafkaJars, type LocalKafka, type LocalKafkaOptions } from './kafka.ts';
export { startLocalRedis, ensureRedisServer, type LocalRedis, type LocalRedisOptions } from './redis.ts';
export { freePort, waitFor, run, stopProcess } from './process.ts';
export { supervise, type Restartable, type RestartPolicy, type Supervisor, type SupervisorEvents } from './supervise.ts';
