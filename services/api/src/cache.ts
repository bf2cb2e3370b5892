import { cacheBypassed } from '@kpi/metrics';
import { isRedisUnavailable, type Queues } from '@kpi/queue';

/** After Redis failed to answer, reads skip it this long instead of each waiting for it in turn. */
const SKIP_REDIS_MS = 1_000;

/**
 * Read-through cache for answers computed from stored KPI values. An entry is valid while the
 * values version in Redis (bumped by every recompute and target change, in any process) is the
 * one it was computed under, so a cached answer is never staler than the data; dashboards that
 * refresh the same views cost one Redis GET instead of ClickHouse queries. Without Redis there is
 * no version to trust, and the answer comes straight from ClickHouse.
 */
export function createValuesCache(queues: Queues, maxEntries = 2_000) {
  const entries = new Map<string, { version: string; value: unknown }>();
  let skipRedisUntil = 0;
  return async function cached<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let version: string | undefined;
    if (Date.now() >= skipRedisUntil) {
      try {
        version = await queues.valuesVersion();
      } catch (error) {
        if (!isRedisUnavailable(error)) throw error;
        skipRedisUntil = Date.now() + SKIP_REDIS_MS;
      }
    }
    if (version === undefined) {
      cacheBypassed.inc();
      return compute();
    }
    const hit = entries.get(key);
    if (hit && hit.version === version) {
      // Refresh its place in the LRU order.
      entries.delete(key);
      entries.set(key, hit);
      return hit.value as T;
    }
    const value = await compute();
    entries.set(key, { version, value });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return value;
  };
}
