import type { Worker } from 'bullmq';
import { produceEvents } from '@kpi/bus';
import { growthbookApi, validateDrafts } from '@kpi/connectors';
import { startWorker, type WorkerOptions } from '@kpi/queue';
import type { Runtime } from '@kpi/runtime';
import { runningExperiments } from '@kpi/storage';

/** How often the results of running GrowthBook experiments are pulled (GrowthBook refreshes results a few times a day). */
export const GROWTHBOOK_POLL = { queue: 'growthbookPoll', id: 'growthbook-poll-running', everyMs: 30 * 60_000 } as const;

/**
 * GrowthBook readouts are pulled, not pushed: when an experiment starts running and when it stops
 * (jobs queued by the webhook), and on a schedule while it runs. A failed pull (GrowthBook down)
 * throws, and BullMQ retries it with backoff.
 */
export function startGrowthbookWorkers(runtime: Runtime, options: WorkerOptions): Worker[] {
  const config = runtime.connectors.growthbook;
  if (!config) return [];
  const api = growthbookApi(config);
  return [
    startWorker(
      'growthbookResults',
      async (payload) => {
        const draft = await api.readout(payload.experiment);
        if (!draft) return { readout: null };
        const valid = validateDrafts([draft]);
        if (!valid.ok) throw new Error(`GrowthBook results of ${payload.experiment} do not make a valid readout: ${valid.reason}`);
        await produceEvents(await runtime.producer(), runtime.config.kafka.topics, valid.events);
        return { readout: draft.id };
      },
      { ...options, concurrency: 2 },
    ),
    startWorker(
      'growthbookPoll',
      async () => {
        const running = (await runningExperiments(runtime.storage, 'growthbook')).map((id) => id.replace(/^growthbook:/, ''));
        await runtime.queues.queue('growthbookResults').addBulk(
          running.map((experiment) => ({ name: experiment, data: { experiment, final: false }, opts: { deduplication: { id: `growthbook-results|${experiment}` } } })),
        );
        return { running: running.length };
      },
      { ...options, concurrency: 1 },
    ),
  ];
}
