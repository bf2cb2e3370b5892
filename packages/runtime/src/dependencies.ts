import { isKafkaUnavailable } from '@kpi/bus';
import { isRedisUnavailable } from '@kpi/queue';
import { isClickHouseUnavailable } from '@kpi/storage';
import { within } from './shutdown.ts';

export type Dependency = 'kafka' | 'clickhouse' | 'redis' | 'oidc';

const NAMES: Record<Dependency, string> = { kafka: 'Kafka', clickhouse: 'ClickHouse', redis: 'Redis', oidc: 'The OpenID provider' };

/** A dependency that did not answer in time: the API answers 503 naming it. */
export class DependencyUnavailable extends Error {
  override name = 'DependencyUnavailable';
  constructor(
    readonly dependency: Dependency,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${NAMES[dependency]} is unavailable: ${detail}`, options);
  }
}

/**
 * `error` as a DependencyUnavailable when it says a dependency was unreachable or too slow;
 * undefined for anything else (a refused query or command is a bug or bad input, not an outage).
 */
export function asUnavailable(error: unknown): DependencyUnavailable | undefined {
  if (error instanceof DependencyUnavailable) return error;
  const dependency = isRedisUnavailable(error) ? 'redis' : isKafkaUnavailable(error) ? 'kafka' : isClickHouseUnavailable(error) ? 'clickhouse' : undefined;
  return dependency && new DependencyUnavailable(dependency, (error as Error).message, { cause: error });
}

/**
 * Waits at most `ms` for `work`; then rejects with DependencyUnavailable. The work itself goes
 * on (a Kafka send may still be acknowledged later): callers use this only where that is harmless.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, dependency: Dependency, what: string): Promise<T> {
  const outcome = await within(work, ms);
  if (!outcome.done) throw new DependencyUnavailable(dependency, `${what} took longer than ${ms} ms`);
  return outcome.value;
}
