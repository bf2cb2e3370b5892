import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { DirtySet } from '@kpi/queue';
import { sharedInfra, uniqueName } from '@kpi/testing';

describe('changed days in Redis', () => {
  it('collapse repeats, are taken whole, and survive a job that crashed after taking them', async () => {
    const redis = new Redis(sharedInfra().redisUrl);
    const dirty = new DirtySet(redis, uniqueName('dirty'));
    const day = { source: 'incidents', team: 'ranking', day: '2026-01-14' };
    await dirty.add([day, day, { ...day, team: 'search' }]);
    // Attempt 1 takes both days, then "crashes" without calling done().
    expect(await dirty.take('incidents', 'job-1')).toHaveLength(2);
    // Meanwhile a new event marks another day and a repeat of an old one.
    await dirty.add([{ ...day, day: '2026-01-20' }, day]);
    // The retry of the same job gets back what attempt 1 took, plus the new ones, each once.
    const retried = await dirty.take('incidents', 'job-1');
    expect(retried.map((d) => `${d.team}|${d.day}`).sort()).toEqual(['ranking|2026-01-14', 'ranking|2026-01-20', 'search|2026-01-14']);
    await dirty.done('incidents', 'job-1');
    expect(await dirty.take('incidents', 'job-2')).toEqual([]);
    redis.disconnect();
  });

  it('take any number of days at once (a batch of history touches years of them)', async () => {
    const redis = new Redis(sharedInfra().redisUrl);
    const dirty = new DirtySet(redis, uniqueName('dirty'));
    const days = Array.from({ length: 250_000 }, (_, i) => ({ source: 'servingWindows', team: `team-${i % 50}`, day: new Date(Date.UTC(1970, 0, 1) + Math.floor(i / 50) * 86_400_000).toISOString().slice(0, 10) }));
    expect(await dirty.add(days)).toEqual(['servingWindows']);
    expect(await dirty.take('servingWindows', 'job-1')).toHaveLength(250_000);
    redis.disconnect();
  });
});
