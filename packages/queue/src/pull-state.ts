import type { Redis } from 'ioredis';
import { execAll } from './redis.ts';

/**
 * How a connector that pulls from its tool (ServiceNow) is doing: kept in Redis, so it survives
 * restarts and every process sees it (the API serves it as GET /v1/webhooks/pulls).
 */
export interface PullState {
  /** Where the next poll starts (the tool's own time format, e.g. ServiceNow's `sys_updated_on`); null before the first page. */
  cursor: string | null;
  /** When the last poll ended, and the last one that read every page. */
  last_poll_at: string | null;
  last_success_at: string | null;
  /** The last failed request or poll (a failure that a retry overcame included), and when. */
  last_error: string | null;
  last_error_at: string | null;
  /** Polls in a row that did not read every page. */
  consecutive_failures: number;
  /** What the last poll read. */
  last_poll: { pages: number; events: number; skipped: number };
}

const count = (value: string | undefined) => Number(value ?? 0);

/** The pull state of connectors, one Redis hash each. */
export class PullStates {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(connector: string) {
    return `${this.prefix}:pull:${connector}`;
  }

  async get(connector: string): Promise<PullState> {
    const hash = await this.redis.hgetall(this.key(connector));
    return {
      cursor: hash.cursor ?? null,
      last_poll_at: hash.last_poll_at ?? null,
      last_success_at: hash.last_success_at ?? null,
      last_error: hash.last_error ?? null,
      last_error_at: hash.last_error_at ?? null,
      consecutive_failures: count(hash.consecutive_failures),
      last_poll: { pages: count(hash.pages), events: count(hash.events), skipped: count(hash.skipped) },
    };
  }

  /** After each page: a poll that stops (a restart, a failure) resumes here. */
  async advance(connector: string, cursor: string): Promise<void> {
    await this.redis.hset(this.key(connector), 'cursor', cursor);
  }

  async failed(connector: string, message: string, at: Date): Promise<void> {
    await this.redis.hset(this.key(connector), { last_error: message, last_error_at: at.toISOString() });
  }

  /** A poll ended: `error` when it could not read every page. */
  async polled(connector: string, read: PullState['last_poll'], at: Date, error?: string): Promise<void> {
    const key = this.key(connector);
    const multi = this.redis.multi().hset(key, { last_poll_at: at.toISOString(), ...read });
    if (error === undefined) multi.hset(key, { last_success_at: at.toISOString(), consecutive_failures: 0 });
    else multi.hset(key, { last_error: error, last_error_at: at.toISOString() }).hincrby(key, 'consecutive_failures', 1);
    await execAll(multi);
  }
}
