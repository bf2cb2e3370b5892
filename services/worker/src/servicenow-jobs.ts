import type { Worker } from 'bullmq';
import { produceEvents } from '@kpi/bus';
import { archivedOutcome, deliveryIdOf, isLastPage, mapDelivery, nextPage, servicenowTableApi, SERVICENOW_EPOCH, type PagePosition, type RawDelivery, type ServicenowConfig } from '@kpi/connectors';
import { connectorLastPull, connectorPullFailures, connectorPulls, connectorRecordsSkipped, webhookDeliveries } from '@kpi/metrics';
import { PullStates, startWorker, type WorkerOptions } from '@kpi/queue';
import type { Runtime } from '@kpi/runtime';
import { webhookDeliveries as archive } from '@kpi/storage';

const CONNECTOR = 'servicenow';

/** The repeatable poll, every `servicenow.poll_interval`. */
export const servicenowSchedule = (config: ServicenowConfig) => ({ queue: 'servicenowPoll', id: 'servicenow-poll', everyMs: config.poll_interval }) as const;

/**
 * ServiceNow incidents are pulled (SPEC §8b): each poll reads the Table API from the cursor kept
 * in Redis, page after page until one is shorter than the limit, maps each page like a delivery
 * (archived, replayable), produces its events and moves the cursor after it. A stopping worker
 * ends the poll between pages (or in a retry's wait), so a restart resumes at the last page done;
 * what is read twice maps to the same event ids and counts once.
 */
export function startServicenowWorkers(runtime: Runtime, options: WorkerOptions): Worker[] {
  const config = runtime.connectors.servicenow;
  if (!config) return [];
  const api = servicenowTableApi(config);
  const states = new PullStates(runtime.redis, runtime.config.queuePrefix);
  const stopping = new AbortController();

  async function readPage(position: PagePosition, signal: AbortSignal) {
    const body = await api.page(position.cursor, position.offset, signal, async (failure) => {
      connectorPullFailures.inc({ connector: CONNECTOR, kind: failure.kind });
      const next = failure.retryInMs !== undefined ? `; attempt ${failure.attempt + 1} in ${failure.retryInMs} ms` : '';
      await states.failed(CONNECTOR, `${failure.message}${next}`, new Date());
    });
    const delivery: RawDelivery = { body: Buffer.from(body), headers: {}, query: {}, receivedAt: new Date() };
    const result = await mapDelivery(CONNECTOR, config!, delivery, runtime.connectorDeps);
    if (result.outcome === 'accepted') await produceEvents(await runtime.producer(), runtime.config.kafka.topics, result.events);
    const archived = archivedOutcome(result);
    // An empty page carries nothing to keep; any other is kept, and the same page read again is the same delivery.
    if (result.outcome !== 'ignored') {
      await archive.record(runtime.storage, { connector: CONNECTOR, deliveryId: deliveryIdOf(CONNECTOR, delivery), receivedAt: delivery.receivedAt, ...archived, headers: {}, query: {}, body, attempts: 1 });
      webhookDeliveries.inc({ connector: CONNECTOR, outcome: archived.outcome });
    }
    if (result.outcome === 'bad_request') throw new Error(`ServiceNow answered something that is not a Table API page: ${result.reason}`);
    const skipped = result.outcome === 'accepted' ? result.skipped.length : 0;
    connectorRecordsSkipped.inc({ connector: CONNECTOR }, skipped);
    return { page: JSON.parse(body) as unknown, events: archived.events.length, skipped };
  }

  async function poll(signal: AbortSignal) {
    let position: PagePosition = { cursor: (await states.get(CONNECTOR)).cursor ?? SERVICENOW_EPOCH, offset: 0 };
    const read = { pages: 0, events: 0, skipped: 0 };
    try {
      for (;;) {
        if (signal.aborted) return { ...read, stopped: true };
        const { page, events, skipped } = await readPage(position, signal);
        read.pages++;
        read.events += events;
        read.skipped += skipped;
        position = nextPage(position, page);
        await states.advance(CONNECTOR, position.cursor);
        if (isLastPage(page)) break;
      }
    } catch (error) {
      // A stop is no failure: the next poll resumes from the cursor.
      if (signal.aborted) return { ...read, stopped: true };
      connectorPulls.inc({ connector: CONNECTOR, outcome: 'failed' });
      await states.polled(CONNECTOR, read, new Date(), `poll stopped after ${read.pages} page(s) at ${position.cursor}: ${(error as Error).message}`);
      throw error;
    }
    connectorPulls.inc({ connector: CONNECTOR, outcome: 'ok' });
    connectorLastPull.set({ connector: CONNECTOR }, Date.now() / 1000);
    await states.polled(CONNECTOR, read, new Date());
    return read;
  }

  const worker = startWorker('servicenowPoll', () => poll(stopping.signal), { ...options, concurrency: 1 });
  worker.on('closing', () => stopping.abort());
  return [worker];
}
