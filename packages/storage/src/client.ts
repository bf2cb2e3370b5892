import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join, resolve } from 'node:path';
import './allocator.ts';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Config } from '@kpi/config';
import { embeddedEngine, type EmbeddedEngine, type Lane, type StatementObserver } from './embedded.ts';
import type { Sql } from './sql.ts';

export type QueryParams = Record<string, unknown>;
export type { Lane, StatementObserver } from './embedded.ts';

/**
 * The pipeline's handle on ClickHouse (a server over HTTP, or embedded chdb) and the database
 * every statement runs in. SQL names tables as `{db:Identifier}.name`; `db` is bound here, so no
 * statement ever concatenates a name or a value into its text.
 */
export interface Storage {
  readonly database: string;
  readonly cluster: string | undefined;
  readonly embedded: boolean;
  query<Row>(sql: string | Sql, params?: QueryParams): Promise<Row[]>;
  command(sql: string | Sql, params?: QueryParams): Promise<void>;
  insert<Row>(table: string, rows: Row[], settings?: ClickHouseSettings): Promise<void>;
  /**
   * Inserts rows already encoded as TabSeparated lines, columns in the given order: the
   * ingestion hot path, where building and serializing an object per row costs more than the
   * insert itself. Embedded, the text is handed to the engine without a copy.
   */
  insertTabSeparated(table: string, columns: readonly string[], body: string, settings?: ClickHouseSettings): Promise<void>;
  /**
   * The same storage for one kind of work. Embedded, each lane has its own engine connection, so
   * API reads (`serve`) never wait for a recompute (`compute`) or an insert (`ingest`); a server
   * runs concurrent statements itself, and every lane is the same client.
   */
  lane(name: Lane): Storage;
  /** The same engine and lane, statements in another database. */
  inDatabase(database: string): Storage;
  ping(): Promise<boolean>;
  /**
   * Closes the engine once the statements in flight finished, waiting at most `timeoutMs`
   * (embedded: a connection still busy then is abandoned, never closed under its statement).
   * Resolves whether everything was released.
   */
  close(timeoutMs?: number): Promise<boolean>;
}

// Numbers come back as numbers, whatever the server's default for 64-bit integers.
const settings: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0, date_time_output_format: 'iso' };

const CLOSE_TIMEOUT_MS = 10_000;

/** `observe` is told of every embedded statement (its wait for the lane's connection, its run). */
export function createStorage(options: { clickhouse: Omit<Config['clickhouse'], 'slowStatementMs'>; dataDir: string; observe?: StatementObserver }): Storage {
  const { url, user, password, database, cluster } = options.clickhouse;
  if (url) return wrapClient(createClient({ url, username: user, password, clickhouse_settings: settings, request_timeout: 60_000 }), database, cluster);
  // Embedded ClickHouse binds one data directory per process; every role of the process shares it.
  const path = resolve(join(options.dataDir, 'clickhouse'));
  mkdirSync(path, { recursive: true });
  return embeddedStorage(embeddedEngine(path, options.observe), 'compute', database, cluster);
}

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
const UNAVAILABLE = Symbol('ClickHouse unavailable');

/** Marks an error of a ClickHouse call that says the server could not be reached or did not answer in time. */
function markUnavailable(error: unknown): never {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if ((typeof code === 'string' && NETWORK_ERRORS.has(code)) || /^Timeout error|socket hang up/.test(error.message)) Object.assign(error, { [UNAVAILABLE]: true });
  }
  throw error;
}

/** True when `error` comes from a ClickHouse call the server did not answer (not from a bad query). */
export function isClickHouseUnavailable(error: unknown): boolean {
  return error instanceof Error && UNAVAILABLE in error;
}

/** The text and parameters of a statement, `db` bound to the storage's database. */
function statement(database: string, sql: string | Sql, params?: QueryParams): [string, QueryParams] {
  return typeof sql === 'string' ? [sql, { db: database, ...params }] : [sql.text, { db: database, ...sql.params, ...params }];
}

/** JSONEachRow text as rows. */
const rowsOf = <Row>(text: string): Row[] => (text.length === 0 ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as Row));

/** A ClickHouse server (or any @clickhouse/client connection) as Storage. */
export function wrapClient(client: ClickHouseClient, database: string, cluster: string | undefined): Storage {
  const storage: Storage = {
    database,
    cluster,
    embedded: false,
    async query<Row>(sql: string | Sql, params?: QueryParams) {
      const [text, bound] = statement(database, sql, params);
      try {
        const result = await client.query({ query: text, query_params: bound, format: 'JSONEachRow' });
        return await result.json<Row>();
      } catch (error) {
        markUnavailable(error);
      }
    },
    async command(sql: string | Sql, params?: QueryParams) {
      const [text, bound] = statement(database, sql, params);
      await client.command({ query: text, query_params: bound }).catch(markUnavailable);
    },
    async insert<Row>(table: string, rows: Row[], insertSettings?: ClickHouseSettings) {
      if (rows.length === 0) return;
      await client.insert({ table: `${database}.${table}`, values: rows, format: 'JSONEachRow', clickhouse_settings: insertSettings }).catch(markUnavailable);
    },
    async insertTabSeparated(table: string, columns: readonly string[], body: string, insertSettings?: ClickHouseSettings) {
      if (body.length === 0) return;
      await client
        .insert({ table: `${database}.${table}`, columns: [...columns] as [string, ...string[]], values: Readable.from([body], { objectMode: false }), format: 'TabSeparated', clickhouse_settings: insertSettings })
        .catch(markUnavailable);
    },
    lane: () => storage,
    inDatabase: (other) => wrapClient(client, other, cluster),
    async ping() {
      const result = await client.ping();
      return result.success;
    },
    async close() {
      await client.close();
      return true;
    },
  };
  return storage;
}

/** Embedded ClickHouse as Storage: statements of `lane` on that lane's connection. */
function embeddedStorage(engine: EmbeddedEngine, lane: Lane, database: string, cluster: string | undefined): Storage {
  return {
    database,
    cluster,
    embedded: true,
    async query<Row>(sql: string | Sql, params?: QueryParams) {
      return rowsOf<Row>(await engine.query(lane, ...statement(database, sql, params)));
    },
    command: (sql, params) => engine.command(lane, ...statement(database, sql, params)),
    async insert<Row>(table: string, rows: Row[], insertSettings?: ClickHouseSettings) {
      if (rows.length === 0) return;
      await engine.insert(lane, { table: `${database}.${table}`, values: rows.map((row) => JSON.stringify(row)).join('\n'), format: 'JSONEachRow', settings: insertSettings as Record<string, string | number | boolean> });
    },
    async insertTabSeparated(table, columns, body, insertSettings) {
      if (body.length === 0) return;
      await engine.insert(lane, { table: `${database}.${table}`, columns, values: body, format: 'TabSeparated', settings: insertSettings as Record<string, string | number | boolean> });
    },
    lane: (other) => embeddedStorage(engine, other, database, cluster),
    inDatabase: (other) => embeddedStorage(engine, lane, other, cluster),
    async ping() {
      // On the readers' connection: a probe answers while a long recompute runs.
      await engine.query('serve', 'SELECT 1', {});
      return true;
    },
    close: (timeoutMs = CLOSE_TIMEOUT_MS) => engine.close(timeoutMs),
  };
}
