import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MAX_RECOMPUTE_PAUSE_MS, Postpone, RECOMPUTE_DELAY_MS, RecomputePace } from '@kpi/queue';
import { sharedInfra, uniqueName } from '@kpi/testing';

describe('pacing of the recomputes of one source', () => {
  it('lets the first recompute run at once, then makes the next wait as long as the last one took, within bounds', async () => {
    const redis = new Redis(sharedInfra().redisUrl);
    const pace = new RecomputePace(redis, uniqueName('pace'));
    const now = Date.now();
    await expect(pace.check('incidents', now)).resolves.toBeUndefined();

    expect(await pace.ran('incidents', 800, now)).toBe(now + 800);
    const postponed = await pace.check('incidents', now + 100).catch((error: unknown) => error);
    expect(postponed).toBeInstanceOf(Postpone);
    expect((postponed as Postpone).until).toBe(now + 800);
    await expect(pace.check('incidents', now + 800)).resolves.toBeUndefined();
    // Another source is paced apart.
    await expect(pace.check('servingWindows', now + 100)).resolves.toBeUndefined();

    // A quick recompute still waits the coalescing delay; a long one at most MAX_RECOMPUTE_PAUSE_MS.
    expect(await pace.ran('incidents', 5, now)).toBe(now + RECOMPUTE_DELAY_MS);
    expect(await pace.ran('incidents', 60_000, now)).toBe(now + MAX_RECOMPUTE_PAUSE_MS);
    redis.disconnect();
  });
});
