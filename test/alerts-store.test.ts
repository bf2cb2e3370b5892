import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AlertStore } from '@kpi/alerts';
import { sharedInfra, uniqueName } from '@kpi/testing';

const instance = (fingerprint: string, state: 'pending' | 'firing' | 'inactive') =>
  ({ fingerprint, rule: 'ttm', kpi: 'time_to_mitigate_hours', team: 'search', severity: 'page', labels: {}, annotations: {}, state, active_at: null, fired_at: null, resolved_at: null, last_change_at: '2026-01-01T00:00:00Z', last_evaluated_at: '2026-01-01T00:00:00Z', holds: 0, version: 1, value: null, target: null, threshold: null, status: null }) as never;
const change = (instances: unknown[], removedInstances: string[] = []) => ({ instances: instances as never[], removedInstances, groups: [], removedGroups: [], notifications: [] });

describe('alert instances as the API lists them', () => {
  it('are read again after every change an evaluation commits, in this process or another', async () => {
    const redis = new Redis(sharedInfra().redisUrl);
    const prefix = uniqueName('alerts');
    const reader = new AlertStore(redis, prefix);
    const evaluator = new AlertStore(redis, prefix);
    expect(await reader.instances()).toEqual([]);
    await evaluator.commit(change([instance('a', 'pending')]));
    expect((await reader.instances()).map((read) => [read.fingerprint, read.state])).toEqual([['a', 'pending']]);
    await evaluator.commit(change([instance('a', 'firing'), instance('b', 'pending')]));
    expect((await reader.instances()).map((read) => [read.fingerprint, read.state]).sort()).toEqual([['a', 'firing'], ['b', 'pending']]);
    await evaluator.commit(change([], ['a']));
    expect((await reader.instances()).map((read) => read.fingerprint)).toEqual(['b']);
    redis.disconnect();
  });
});
