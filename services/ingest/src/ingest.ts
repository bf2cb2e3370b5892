import type { Kafka, Producer, IHeaders } from 'kafkajs';
import type { Logger } from 'pino';
import { decodeEventMessage, eventRef, isCustomType, type AnyEvent, type CustomEventTypes, type EventRef } from '@kpi/events';
import { startBatchConsumer, type BatchConsumer, type PartitionBatch } from '@kpi/bus';
import { dlqMessages, eventsIngested, eventsRejected, ingestBatchSize, ingestStepFailures, insertRetries, insertSeconds } from '@kpi/metrics';
import { insertEventLines, type Storage } from '@kpi/storage';
import { KPI_TABLE_COLUMNS, kpiLineOf, type KpiTable } from './kpi-rows.ts';
import { clickhouseTime, eventLine, type Origin } from './rows.ts';

export interface IngestOptions {
  kafka: Kafka;
  storage: Storage;
  producer: () => Promise<Producer>;
  log: Logger;
  groupId: string;
  topics: string[];
  dlqTopic: string;
  chunkSize: number;
  maxWaitMs: number;
  maxMessageBytes: number;
  /** Runs after a chunk's rows are acknowledged and before its offsets commit (recompute jobs). */
  afterInsert(events: EventRef[]): Promise<void>;
  /**
   * The custom event types of the catalog (custom KPIs) and the types whose data planning reads;
   * `refreshTypes` reloads them when a custom type is unknown, in case it was just defined.
   */
  customTypes?: { current(): { eventTypes: CustomEventTypes; plannedFromData: ReadonlySet<string> }; refresh(): Promise<boolean> };
  /** Test seam: wraps the insert, e.g. to make ClickHouse unavailable for a while. */
  insert?: (rows: ChunkRows, token: string) => Promise<void>;
}

/** What a chunk stores, TabSeparated: its `events` lines and the lines it adds to each typed KPI table. */
export interface ChunkRows {
  lines: string;
  kpiLines: Map<KpiTable, string>;
}

/** Collects a chunk's rows, event by event. */
export class ChunkBuilder {
  private lines = '';
  private readonly kpiLines: ChunkRows['kpiLines'] = new Map();
  private readonly ingestedAt = clickhouseTime(new Date().toISOString());

  add(event: AnyEvent, origin: Origin): void {
    const json = JSON.stringify(event.data);
    this.lines += eventLine(event, origin, json);
    const { table, line } = kpiLineOf(event, origin, json, this.ingestedAt);
    this.kpiLines.set(table, (this.kpiLines.get(table) ?? '') + line);
  }

  rows(): ChunkRows {
    return { lines: this.lines, kpiLines: this.kpiLines };
  }
}

/** Stores events as ingestion would (offsets counted from 0 on `topic`): for tools and tests that load events without Kafka. */
export async function storeEvents(storage: Storage, events: readonly AnyEvent[], topic: string, token: string): Promise<void> {
  const chunk = new ChunkBuilder();
  events.forEach((event, index) => chunk.add(event, { topic, partition: 0, offset: String(index) }));
  await storeChunk(storage, chunk.rows(), token);
}

/**
 * Stores a chunk: its events, then its rows of each typed table, each insert with a deduplication
 * token of its own derived from `token`, so that a chunk retried after a partial failure writes
 * nothing twice.
 */
export async function storeChunk(storage: Storage, rows: ChunkRows, token: string): Promise<void> {
  await insertEventLines(storage, rows.lines, token);
  for (const [table, lines] of rows.kpiLines) await storage.insertTabSeparated(table, KPI_TABLE_COLUMNS[table], lines, { insert_deduplication_token: `${token}|${table}` });
}

/** The step of a chunk that failed: what the retry log line and the metric name. */
export type IngestStep = 'insert' | 'dlq' | 'plan';

/** A chunk's failure at one step, with what a reader of the log needs to find it. */
export class IngestStepError extends Error {
  override name = 'IngestStepError';
  constructor(
    readonly step: IngestStep,
    override readonly cause: unknown,
    readonly context: Record<string, unknown> = {},
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

async function atStep<T>(step: IngestStep, work: () => Promise<T>, context?: () => Record<string, unknown>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new IngestStepError(step, error, context?.());
  }
}

const RETRY_MESSAGE: Record<IngestStep, string> = {
  insert: 'events not stored in ClickHouse; retrying the same offsets',
  dlq: 'invalid messages not acknowledged by the DLQ topic; retrying the same offsets (the chunk is not committed before they are)',
  plan: 'recomputes not planned or enqueued; retrying the same offsets',
};

/**
 * Makes one chunk of one partition durable: valid events inserted (with the chunks of other
 * partitions handled meanwhile, see groupCommit) under a deduplication token naming their offset
 * ranges (a re-delivered group is dropped by ClickHouse) and their recomputes planned, invalid
 * ones produced to the DLQ with headers saying why and where from. Throws when anything is not
 * acknowledged, so the chunk is retried and never committed.
 */
export function chunkHandler(options: IngestOptions) {
  const insert = options.insert ?? ((rows: ChunkRows, token: string) => storeChunk(options.storage, rows, token));
  const refreshCustom = rateLimited(() => options.customTypes?.refresh() ?? Promise.resolve(false), 1_000);
  const commit = groupCommit<PendingChunk>(async (chunks) => {
    const timer = insertSeconds.startTimer();
    await atStep('insert', () => insert(mergeRows(chunks.map((chunk) => chunk.rows)), chunks.map((chunk) => chunk.token).join(',')));
    timer();
    const refs = chunks.flatMap((chunk) => chunk.refs);
    await atStep('plan', () => options.afterInsert(refs), () => ({ events: refs.length }));
  });
  return async (batch: PartitionBatch) => {
    // Only the row text and what planning needs are kept while the chunk is in flight.
    const chunk = new ChunkBuilder();
    const refs: EventRef[] = [];
    const ingestedOfType = new Map<string, number>();
    const dlq: { key: Buffer | null; value: Buffer | null; headers: IHeaders }[] = [];
    for (const message of batch.messages) {
      let decoded = decodeEventMessage(message.value, options.maxMessageBytes, options.customTypes?.current().eventTypes);
      // A custom type defined a moment ago, in this process or another: reload the catalog once and look again.
      if (!decoded.ok && decoded.reason === 'unknown_type' && isCustomType(decoded.type) && (await refreshCustom())) {
        decoded = decodeEventMessage(message.value, options.maxMessageBytes, options.customTypes?.current().eventTypes);
      }
      if (decoded.ok) {
        const { event } = decoded;
        chunk.add(event, { topic: batch.topic, partition: batch.partition, offset: message.offset });
        refs.push(eventRef(event, options.customTypes?.current().plannedFromData.has(event.type)));
        ingestedOfType.set(event.type, (ingestedOfType.get(event.type) ?? 0) + 1);
        continue;
      }
      const value = message.value;
      const oversized = value !== null && value.length > options.maxMessageBytes;
      dlq.push({
        key: message.key,
        // An oversized value would be refused by the DLQ topic too; its head is enough to identify it.
        value: oversized ? value.subarray(0, 4096) : value,
        headers: {
          dlq_reason: decoded.reason,
          dlq_error: decoded.error.slice(0, 2000),
          dlq_step: 'decode',
          dlq_topic: batch.topic,
          dlq_partition: String(batch.partition),
          dlq_offset: message.offset,
          dlq_timestamp: new Date().toISOString(),
          ...(oversized ? { dlq_original_bytes: String(value.length), dlq_truncated: 'true' } : {}),
        },
      });
    }
    const first = batch.messages[0]!.offset;
    const last = batch.messages.at(-1)!.offset;
    if (refs.length > 0) await commit({ rows: chunk.rows(), refs, token: `${batch.topic}|${batch.partition}|${first}|${last}` });
    if (dlq.length > 0) {
      await atStep(
        'dlq',
        async () => (await options.producer()).send({ topic: options.dlqTopic, acks: -1, messages: dlq }),
        () => ({ dlq_topic: options.dlqTopic, dlq_messages: dlq.length, dlq_reasons: [...new Set(dlq.map((entry) => String(entry.headers.dlq_reason)))] }),
      );
    }
    ingestBatchSize.observe({ topic: batch.topic }, batch.messages.length);
    for (const [type, count] of ingestedOfType) eventsIngested.inc({ topic: batch.topic, type }, count);
    for (const entry of dlq) eventsRejected.inc({ topic: batch.topic, reason: String(entry.headers.dlq_reason) });
    if (dlq.length > 0) dlqMessages.inc(dlq.length);
  };
}

/** A chunk's valid events waiting to be stored and planned. */
interface PendingChunk {
  rows: ChunkRows;
  refs: EventRef[];
  /** The chunk's offset range, for the insert's deduplication token. */
  token: string;
}

/** The rows of several chunks as one: one insert per table instead of one per chunk and table. */
export function mergeRows(chunks: readonly ChunkRows[]): ChunkRows {
  if (chunks.length === 1) return chunks[0]!;
  const kpiLines: ChunkRows['kpiLines'] = new Map();
  for (const chunk of chunks) {
    for (const [table, lines] of chunk.kpiLines) kpiLines.set(table, (kpiLines.get(table) ?? '') + lines);
  }
  return { lines: chunks.map((chunk) => chunk.lines).join(''), kpiLines };
}

/**
 * Group commit: the chunks of every partition handled meanwhile are stored and planned together,
 * in one insert per table and one planning, while the previous group is in ClickHouse; alone, a
 * chunk goes at once. Under load a group holds as many chunks as arrive during one insert, so the
 * number of statements (and of parts ClickHouse merges later) stays the same at any ingest rate.
 * Every chunk of a group learns its outcome: a failure has each of them retried (a row stored
 * twice is one row: the tables keep the latest copy of an event).
 */
export function groupCommit<T>(flush: (members: T[]) => Promise<void>): (member: T) => Promise<void> {
  let open: { members: T[]; done: Promise<void> } | undefined;
  let previous: Promise<unknown> = Promise.resolve();
  return (member) => {
    if (!open) {
      const group: { members: T[]; done: Promise<void> } = { members: [], done: Promise.resolve() };
      group.done = previous.then(() => {
        if (open === group) open = undefined;
        return flush(group.members);
      });
      previous = group.done.catch(() => undefined);
      open = group;
    }
    open.members.push(member);
    return open.done;
  };
}

/** Runs `task` at most once per `intervalMs`; in between, answers false without running it. */
function rateLimited(task: () => Promise<boolean>, intervalMs: number): () => Promise<boolean> {
  let last = 0;
  return async () => {
    if (Date.now() - last < intervalMs) return false;
    last = Date.now();
    return task();
  };
}

export async function startIngest(options: IngestOptions & { concurrency: number }): Promise<BatchConsumer> {
  return startBatchConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: options.topics,
    chunkSize: options.chunkSize,
    concurrency: options.concurrency,
    maxWaitMs: options.maxWaitMs,
    handle: chunkHandler(options),
    onRetry: (error, attempt, batch) => {
      const step = error instanceof IngestStepError ? error.step : 'insert';
      ingestStepFailures.inc({ topic: batch.topic, step });
      if (step === 'insert') insertRetries.inc();
      options.log.warn(
        {
          err: error instanceof IngestStepError ? error.cause : error,
          step,
          attempt,
          topic: batch.topic,
          partition: batch.partition,
          first_offset: batch.messages[0]?.offset,
          last_offset: batch.messages.at(-1)?.offset,
          messages: batch.messages.length,
          ...(error instanceof IngestStepError ? error.context : {}),
        },
        RETRY_MESSAGE[step],
      );
    },
  });
}
