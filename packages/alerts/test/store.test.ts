import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { alertLockRenewalFailures } from '@kpi/metrics';
import { AlertStore } from '../src/store.ts';

// A failed renewal of the evaluation lock is not dropped: it is counted in /metrics and logged with its reason.
describe('the alert evaluation lock', () => {
  it('counts and logs a renewal that fails', async () => {
    const redis = {
      set: async () => 'OK',
      eval: async (script: string) => {
        if (script.includes('PEXPIRE')) throw new Error('Connection is closed.');
        return 1;
      },
    } as unknown as Redis;
    const warnings: { object: object; message: string }[] = [];
    const before = (await alertLockRenewalFailures.get()).values[0]?.value ?? 0;
    const lock = await new AlertStore(redis, 'test').lock(300, { warn: (object, message) => warnings.push({ object, message }) });
    // Renewed every leaseMs / 3 (at least 100 ms).
    await new Promise((resolve) => setTimeout(resolve, 250));
    await lock!.release();
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatchObject({ message: 'could not renew the alert evaluation lock', object: { leaseMs: 300, err: expect.objectContaining({ message: 'Connection is closed.' }) } });
    expect((await alertLockRenewalFailures.get()).values[0]!.value - before).toBe(warnings.length);
  });
});
