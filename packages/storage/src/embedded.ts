import { Session } from 'chdb';
import { formatQueryParams } from '@clickhouse/client-common';
import type { QueryParams } from './client.ts';

/**
 * The kinds of work a process gives the embedded engine. Each has a connection of its own, so that
 * an API read never queues behind a recompute scan or a raw insert (the engine runs statements of
 * different connections in parallel; one connection runs one statement at a time).
 */
export const LANES = ['serve', 'compute', 'ingest'] as const;
export type Lane = (typeof LANES)[number];

/**
 * Connections per lane (recomputes of different sources run side by side, on both cores), and the
 * OS priority (nice) of the threads running their statements: when the cores are busy, a read's
 * statement and the event loop answering requests run first, and recomputes and inserts take the
 * time left (they are background work: a little later, never lost).
 */
const LANE_SETTINGS: Record<Lane, { connections: number; niceness: number }> = {
  serve: { connections: 1, niceness: 0 },
  compute: { connections: 2, niceness: 5 },
  ingest: { connections: 1, niceness: 5 },
};

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string as a ClickHouse SQL literal: backslash and quote escaped, the rest kept. */
const literal = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * `text` preceded by the SET of its query parameters, in the connection's own parameter state.
 * The values are the text clickhouse-js sends a server as `param_<name>` (the same formatting), so
 * the engine binds `{name:Type}` exactly as a server does. (chdb's own binding goes through one
 * process-wide chain, because its per-call parameter state is shared between connections: every
 * parameterised statement of the process would wait for every other one.)
 */
export function withParameters(text: string, params: QueryParams): string {
  const assignments = Object.entries(params).map(([name, value]) => {
    if (!PARAM_NAME.test(name)) throw new Error(`invalid query parameter name ${JSON.stringify(name)}`);
    return `param_${name} = ${literal(formatQueryParams({ value }))}`;
  });
  return assignments.length === 0 ? text : `SET ${assignments.join(', ')};\n${text}`;
}

/** Settings of every connection: numbers as numbers, times as ISO text (as the server client asks for them), the lane's priority. */
const sessionSettings = (lane: Lane) =>
  `SET output_format_json_quote_64bit_integers = 0, date_time_output_format = 'iso', os_thread_priority = ${LANE_SETTINGS[lane].niceness}`;

/** Told of every statement: how long it waited for its connection, how long it ran, and its text. */
export type StatementObserver = (lane: Lane, statement: { waitedMs: number; ranMs: number; text: string }) => void;

/**
 * One engine connection and the statements waiting for it, run one at a time in order (the engine
 * would serialise them anyway; here a statement's SET and the statement itself stay together, and
 * shutdown knows what is still running).
 */
class Connection {
  private session: Session | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly path: string,
    private readonly lane: Lane,
    private readonly observe: StatementObserver | undefined,
  ) {}

  run<T>(text: string, work: (session: Session) => Promise<T>): Promise<T> {
    this.pending++;
    const queued = performance.now();
    const result = this.tail.then(async () => {
      const started = performance.now();
      try {
        return await work(this.open());
      } finally {
        this.observe?.(this.lane, { waitedMs: started - queued, ranMs: performance.now() - started, text });
      }
    });
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  /** Statements handed over and not finished. */
  get load() {
    return this.pending;
  }

  /** Resolves once every statement handed over so far has finished. */
  drained(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  /** Releases the connection; only when nothing runs on it (closing under a running statement would block). */
  close(): boolean {
    if (this.pending > 0) return false;
    this.session?.close();
    this.session = undefined;
    return true;
  }

  private open(): Session {
    if (!this.session) {
      this.session = new Session(this.path);
      this.session.query(sessionSettings(this.lane));
    }
    return this.session;
  }
}

export interface EmbeddedEngine {
  query(lane: Lane, text: string, params: QueryParams): Promise<string>;
  command(lane: Lane, text: string, params: QueryParams): Promise<void>;
  insert(lane: Lane, request: { table: string; columns?: readonly string[]; values: string; format: 'TabSeparated' | 'JSONEachRow'; settings?: Record<string, string | number | boolean> }): Promise<void>;
  /**
   * Waits up to `ms` for the statements in flight, then releases every connection that is idle.
   * A connection still busy at the deadline is abandoned, never closed under its statement: the
   * process exits without it, and what it had not committed was not acknowledged to anyone.
   * Resolves whether everything was released.
   */
  close(ms: number): Promise<boolean>;
}

export class EngineClosed extends Error {
  override name = 'EngineClosed';
}

/** Embedded ClickHouse (chdb) on the data directory `path`, one connection per lane. */
export function embeddedEngine(path: string, observe?: StatementObserver): EmbeddedEngine {
  const connections = new Map<Lane, Connection[]>(LANES.map((lane) => [lane, Array.from({ length: LANE_SETTINGS[lane].connections }, () => new Connection(path, lane, observe))]));
  let closed = false;
  const on = <T>(lane: Lane, text: string, work: (session: Session) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new EngineClosed('the embedded ClickHouse is shutting down'));
    // The lane's connection with the fewest statements waiting.
    const connection = connections.get(lane)!.reduce((least, candidate) => (candidate.load < least.load ? candidate : least));
    return connection.run(text, work);
  };
  return {
    query: (lane, text, params) => on(lane, text, async (session) => (await session.queryAsync(withParameters(text, params), { format: 'JSONEachRow' })).text()),
    command: (lane, text, params) => on(lane, text, async (session) => void (await session.queryAsync(withParameters(text, params), { format: 'CSV' }))),
    insert: (lane, request) =>
      on(lane, `INSERT INTO ${request.table}`, async (session) => {
        await session.insert({ table: request.table, columns: request.columns ? [...request.columns] : undefined, values: request.values, format: request.format, settings: request.settings });
      }),
    async close(ms) {
      closed = true;
      const all = [...connections.values()].flat();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(all.map((connection) => connection.drained())), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
      return all.map((connection) => connection.close()).every(Boolean);
    },
  };
}
