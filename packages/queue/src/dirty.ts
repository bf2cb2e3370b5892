import type { Redis } from 'ioredis';
import type { DirtyDay } from '@kpi/kpi';
import { execAll } from './redis.ts';

const SADD_SLICE = 10_000;

/**
 * The changed (team, day) pairs of each source of KPI rows, a Redis set per source. Ingestion
 * adds to it (a repeat is a no-op) and enqueues one recompute job per source (deduplicated); the
 * job takes the whole set atomically and recomputes what it makes stale. A crash mid-job leaves
 * the taken members in a per-job key that the job's retry puts back first, so nothing stale is
 * ever forgotten.
 */
export class DirtySet {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(source: string) {
    // The hash tag keeps both keys of a source in one slot on a Redis cluster.
    return `${this.prefix}:dirty:{${source}}`;
  }

  /** Marks days stale; returns the sources that have some. */
  async add(days: readonly DirtyDay[]): Promise<string[]> {
    const bySource = new Map<string, string[]>();
    for (const mark of days) {
      const member = `${mark.team}|${mark.day}`;
      const members = bySource.get(mark.source);
      if (members) members.push(member);
      else bySource.set(mark.source, [member]);
    }
    const multi = this.redis.multi();
    // In slices: a batch of history touches more days than one call can spread.
    for (const [source, members] of bySource) for (let i = 0; i < members.length; i += SADD_SLICE) multi.sadd(this.key(source), ...members.slice(i, i + SADD_SLICE));
    await execAll(multi);
    return [...bySource.keys()];
  }

  /** Takes every stale day of a source for the job `jobId`, after restoring what a crashed attempt had taken. */
  async take(source: string, jobId: string): Promise<{ team: string; day: string }[]> {
    const members = (await this.redis.eval(TAKE, 2, this.key(source), `${this.key(source)}:taken:${jobId}`)) as string[];
    return members.map((member) => {
      // A team has no '|' (SPEC §3); a custom KPI's team field could: the day is after the last one.
      const cut = member.lastIndexOf('|');
      return { team: member.slice(0, cut), day: member.slice(cut + 1) };
    });
  }

  /** The job stored every value it took: forget them. */
  async done(source: string, jobId: string): Promise<void> {
    await this.redis.del(`${this.key(source)}:taken:${jobId}`);
  }
}

const TAKE = `
local dirty, taken = KEYS[1], KEYS[2]
if redis.call('EXISTS', taken) == 1 then
  redis.call('SUNIONSTORE', dirty, dirty, taken)
  redis.call('DEL', taken)
end
if redis.call('EXISTS', dirty) == 0 then return {} end
redis.call('RENAME', dirty, taken)
return redis.call('SMEMBERS', taken)`;
