import type { Redis } from 'ioredis';

/** How long a recompute waits for more changes of its source: the bound on how late coalescing makes a value. */
export const RECOMPUTE_DELAY_MS = 200;

/** The longest a source's recompute waits after the previous one: the bound pacing puts on staleness. */
export const MAX_RECOMPUTE_PAUSE_MS = 5_000;

/**
 * The job could run later, not now: the worker puts it back, delayed until `until` (ms), without
 * using up an attempt.
 */
export class Postpone extends Error {
  override name = 'Postpone';
  constructor(readonly until: number) {
    super(`postponed until ${new Date(until).toISOString()}`);
  }
}

/**
 * How often the recomputes of one source run while its events keep coming. Each recompute drains
 * every day marked before it started, so under a steady stream the next one is due as soon as it
 * ends; run back to back, the recomputes of a few busy sources would keep every core busy and
 * each would take longer for it. So after a recompute that took t, the next one of the same source
 * waits t (at least RECOMPUTE_DELAY_MS, at most MAX_RECOMPUTE_PAUSE_MS): a source computes at most
 * half of the time, a value is late by at most about twice a recompute, and an idle source's first
 * recompute is not delayed at all. Kept in Redis, so every worker process paces alike.
 */
export class RecomputePace {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(source: string) {
    return `${this.prefix}:recompute-pace:{${source}}`;
  }

  /** Throws Postpone when the source's previous recompute ended too recently to run one now. */
  async check(source: string, now = Date.now()): Promise<void> {
    const earliest = Number((await this.redis.get(this.key(source))) ?? 0);
    if (earliest > now) throw new Postpone(earliest);
  }

  /** A recompute of `source` ended at `now` after `ms`: when the next one may start. */
  async ran(source: string, ms: number, now = Date.now()): Promise<number> {
    const pause = Math.min(MAX_RECOMPUTE_PAUSE_MS, Math.max(RECOMPUTE_DELAY_MS, ms));
    await this.redis.set(this.key(source), String(now + pause), 'PX', pause);
    return now + pause;
  }
}
