import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join, resolve } from 'node:path';
import './allocator.ts';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Config } from '@kpi/config';
import type { Sql } from './sql.ts';

export type QueryParams = Record<string, unknown>;

/**
 * The pipeline's handle on ClickHouse: one client (server over HTTP, or embedded chdb) and the
 * database every statement runs in. SQL names tables as `{db:Identifier}.name`; `db` is bound
 * here, so no statement ever concatenates a name or a value into its text.
 */
export interface Storage {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly cluster: string | undefined;
  readonly embedded: boolean;
  query<Row>(sql: string | Sql, params?: QueryParams): Promise<Row[]>;
  command(sql: string, params?: QueryParams): Promise<void>;
  insert<Row>(table: string, rows: Row[], settings?: ClickHouseSettings): Promise<void>;
  /**
   * Inserts rows already encoded as TabSeparated lines, columns in the given order: the
   * ingestion hot path, where building and serializing an object per row costs more than the
   * insert itself. Embedded, the text is handed to the engine without a copy.
   */
  insertTabSeparated(table: string, columns: readonly string[], body: string, settings?: ClickHouseSettings): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// Numbers come back as numbers, whatever the server's default for 64-bit integers.
const settings: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0, date_time_output_format: 'iso' };

export function createStorage(options: { clickhouse: Config['clickhouse']; dataDir: string }): Storage {
  const { url, user, password, database, cluster } = options.clickhouse;
  let client: ClickHouseClient;
  if (url) {
    client = createClient({ url, username: user, password, clickhouse_settings: settings, request_timeout: 60_000 });
  } else {
    // Embedded ClickHouse binds one data directory per process; every role of the process shares it.
    const path = resolve(join(options.dataDir, 'clickhouse'));
    mkdirSync(path, { recursive: true });
    // chdb types its connection against @clickhouse/client-common, which the client now bundles:
    // the same interface under two declarations.
    const chdb = createChdbConnection({ path });
    const connection = chdb as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'];
    client = createClient({ connection, clickhouse_settings: settings });
    return wrapClient(client, database, cluster, true, (params) => chdb.chdb.rawInsert({ ...params, format: 'TabSeparated' }));
  }
  return wrapClient(client, database, cluster, false);
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

/** chdb's zero-copy insert of text in a given format. */
type RawInsert = (params: { table: string; columns: string[]; values: string; settings?: Record<string, string | number | boolean> }) => Promise<unknown>;

export function wrapClient(client: ClickHouseClient, database: string, cluster: string | undefined, embedded: boolean, rawInsert?: RawInsert): Storage {
  const bind = (params: QueryParams = {}) => ({ db: database, ...params });
  return {
    client,
    database,
    cluster,
    embedded,
    async query<Row>(sql: string | Sql, params?: QueryParams) {
      const [text, bound] = typeof sql === 'string' ? [sql, params] : [sql.text, { ...sql.params, ...params }];
      try {
        const result = await client.query({ query: text, query_params: bind(bound), format: 'JSONEachRow' });
        return await result.json<Row>();
      } catch (error) {
        markUnavailable(error);
      }
    },
    async command(sql: string, params?: QueryParams) {
      await client.command({ query: sql, query_params: bind(params) }).catch(markUnavailable);
    },
    async insert<Row>(table: string, rows: Row[], insertSettings?: ClickHouseSettings) {
      if (rows.length === 0) return;
      await client.insert({ table: `${database}.${table}`, values: rows, format: 'JSONEachRow', clickhouse_settings: insertSettings }).catch(markUnavailable);
    },
    async insertTabSeparated(table: string, columns: readonly string[], body: string, insertSettings?: ClickHouseSettings) {
      if (body.length === 0) return;
      if (rawInsert) {
        await rawInsert({ table: `${database}.${table}`, columns: [...columns], values: body, settings: insertSettings as Record<string, string | number | boolean> });
        return;
      }
      await client
        .insert({ table: `${database}.${table}`, columns: [...columns] as [string, ...string[]], values: Readable.from([body], { objectMode: false }), format: 'TabSeparated', clickhouse_settings: insertSettings })
        .catch(markUnavailable);
    },
    async ping() {
      const result = await client.ping();
      return result.success;
    },
    close: () => client.close(),
  };
}
