import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { DirtySet } from '@kpi/queue';
import { sharedInfra, uniqueName } from '@kpi/testing';

describe('stale KPI scopes in Redis', () => {
  it('collapse repeats, are taken whole, and survive a job that crashed after taking them', async () => {
    const redis = new Redis(sharedInfra().redisUrl);
    const dirty = new DirtySet(redis, uniqueName('dirty'));
    const scope = { kpi: 'sev0_incidents', granularity: 'month' as const, periodStart: '2026-01-01T00:00:00.000Z', team: 'ranking' };
    await dirty.add([scope, scope, { ...scope, team: '*' }]);
    // Attempt 1 takes both scopes, then "crashes" without calling done().
    expect(await dirty.take('sev0_incidents', 'job-1')).toHaveLength(2);
    // Meanwhile a new event marks another scope and a repeat of an old one.
    await dirty.add([{ ...scope, granularity: 'week', periodStart: '2026-01-12T00:00:00.000Z' }, scope]);
    // The retry of the same job gets back what attempt 1 took, plus the new ones, each once.
    const retried = await dirty.take('sev0_incidents', 'job-1');
    expect(retried.map((s) => `${s.granularity}|${s.team}`).sort()).toEqual(['month|*', 'month|ranking', 'week|ranking']);
    await dirty.done('sev0_incidents', 'job-1');
    expect(await dirty.take('sev0_incidents', 'job-2')).toEqual([]);
    redis.disconnect();
  });

  it('take any number of scopes at once (an event far in the past marks every period since)', async () => {
    const redis = new Redis(sharedInfra().redisUrl);
    const dirty = new DirtySet(redis, uniqueName('dirty'));
    const weeks = Array.from({ length: 250_000 }, (_, i) => ({ kpi: 'drift_model_coverage', granularity: 'week' as const, periodStart: new Date(Date.UTC(1970, 0, 5) + i * 604_800_000).toISOString(), team: 'ranking' }));
    expect(await dirty.add(weeks)).toEqual(['drift_model_coverage']);
    expect(await dirty.take('drift_model_coverage', 'job-1')).toHaveLength(250_000);
    redis.disconnect();
  });
});
