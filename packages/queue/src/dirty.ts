import type { Redis } from 'ioredis';
import type { Granularity } from '@kpi/kpi';
import type { Recompute } from './catalog.ts';
import { execAll } from './redis.ts';

const SADD_SLICE = 10_000;

/**
 * The stale (granularity, period, team) scopes of each KPI, a Redis set per KPI. Ingestion adds
 * to it (a repeat is a no-op) and enqueues one recompute job per KPI (deduplicated); the job
 * takes the whole set atomically and recomputes it. A crash mid-job leaves the taken members in
 * a per-job key that the job's retry puts back first, so nothing stale is ever forgotten.
 */
export class DirtySet {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(kpi: string) {
    // The hash tag keeps both keys of a KPI in one slot on a Redis cluster.
    return `${this.prefix}:dirty:{${kpi}}`;
  }

  async add(recomputes: Recompute[]): Promise<string[]> {
    const byKpi = new Map<string, string[]>();
    for (const r of recomputes) {
      const member = `${r.granularity}|${r.periodStart}|${r.team}`;
      const members = byKpi.get(r.kpi);
      if (members) members.push(member);
      else byKpi.set(r.kpi, [member]);
    }
    const multi = this.redis.multi();
    // In slices: an event far in the past marks every period since then, more members than one call can spread.
    for (const [kpi, members] of byKpi) for (let i = 0; i < members.length; i += SADD_SLICE) multi.sadd(this.key(kpi), ...members.slice(i, i + SADD_SLICE));
    await execAll(multi);
    return [...byKpi.keys()];
  }

  /** Takes every stale scope of a KPI for the job `jobId`, after restoring what a crashed attempt had taken. */
  async take(kpi: string, jobId: string): Promise<{ granularity: Granularity; periodStart: string; team: string }[]> {
    const members = (await this.redis.eval(TAKE, 2, this.key(kpi), `${this.key(kpi)}:taken:${jobId}`)) as string[];
    return members.map((member) => {
      const [granularity, periodStart, team] = member.split('|') as [Granularity, string, string];
      return { granularity, periodStart, team };
    });
  }

  /** The job stored every value it took: forget them. */
  async done(kpi: string, jobId: string): Promise<void> {
    await this.redis.del(`${this.key(kpi)}:taken:${jobId}`);
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
