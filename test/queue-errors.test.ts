import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { queueErrors } from '@kpi/metrics';
import { startWorker } from '@kpi/queue';
import { sharedInfra, uniqueName } from '@kpi/testing';

describe('BullMQ errors', () => {
  it('are counted and logged with their queue, one line per burst, never swallowed', async () => {
    const connection = new Redis(sharedInfra().redisUrl, { maxRetriesPerRequest: null });
    const lines: { context: Record<string, unknown>; message: string }[] = [];
    const log = { warn: (context: Record<string, unknown>, message: string) => void lines.push({ context, message }) };
    const worker = startWorker('kpiRefresh', async () => undefined, { connection, prefix: uniqueName('errors'), concurrency: 1, log });
    const counted = async () => (await queueErrors.get()).values.find((value) => value.labels.queue === 'kpi-refresh' && value.labels.emitter === 'worker')?.value ?? 0;
    const before = await counted();
    // What BullMQ emits when it loses Redis or cannot renew a lock.
    worker.emit('error', new Error('Connection is closed.'));
    worker.emit('error', new Error('Connection is closed.'));
    worker.emit('error', new Error('Connection is closed.'));
    expect(await counted()).toBe(before + 3);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toContain('kpi-refresh');
    expect(lines[0]!.context).toMatchObject({ queue: 'kpi-refresh', emitter: 'worker', err: expect.objectContaining({ message: 'Connection is closed.' }) });
    await worker.close();
    connection.disconnect();
  });
});
