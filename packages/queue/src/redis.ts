import { Redis, type ChainableCommander } from 'ioredis';

/** Reconnects for as long as it takes, within 2 s of Redis coming back. */
const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);

/**
 * A connection whose commands never wait for an absent Redis: the API's request path, ingestion
 * and every job producer (BullMQ's advice for Queue connections). While Redis is away a command
 * fails at once (no offline queue); when Redis hangs it fails after `commandTimeoutMs`. The caller
 * decides: answer 503, serve from ClickHouse, or retry the batch without committing it.
 */
export function createRedis(url: string, options: { commandTimeoutMs: number }): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: reconnectDelay,
  });
}

/**
 * A connection for BullMQ workers and the jobs they run: commands wait, however long, for Redis
 * to come back (BullMQ requires maxRetriesPerRequest null for workers), so an outage delays
 * background work instead of failing it. Never for anything a request or a shutdown waits on.
 */
export function createWorkerRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectTimeout: 2_000, retryStrategy: reconnectDelay });
}

/** Resolves once `redis` is ready; rejects after `timeoutMs` naming where it tried. */
export async function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let onReady: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      redis.once('ready', onReady);
      timer = setTimeout(() => reject(new Error(`Redis at ${redis.options.host}:${redis.options.port} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
  }
}

// What ioredis rejects a command with when Redis is away or silent (connection errors themselves are events).
const REDIS_UNAVAILABLE = /^(Stream isn't writeable and enableOfflineQueue options is false|Command timed out|Connection is closed|Command aborted due to connection close)/;

/** True when `error` says Redis could not be reached or did not answer in time (not a bad command). */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof Error && (error.name === 'MaxRetriesPerRequestError' || REDIS_UNAVAILABLE.test(error.message));
}

/**
 * Runs a MULTI/pipeline and returns its replies; throws the first command's error. (ioredis
 * resolves `exec()` with per-command errors in place: ignoring them would take a failed write
 * for a done one.)
 */
export async function execAll(commands: ChainableCommander): Promise<unknown[]> {
  const replies = await commands.exec();
  if (!replies) throw new Error('Redis transaction aborted (a watched key changed)');
  for (const [error] of replies) if (error) throw error;
  return replies.map(([, reply]) => reply);
}
