import { loadConfig } from '@kpi/config';
import { buildApi, type Api } from '@kpi/api';
import { startIngestRole, type IngestOptions } from '@kpi/ingest';
import { startWorkerRole } from '@kpi/worker';
import { createQueues } from '@kpi/queue';
import { createRuntime, stopAll, type RoleHandle, type Runtime } from '@kpi/runtime';
import { isolatedEnv } from '@kpi/testing';
import type { AnyEvent } from '@kpi/events';
import { produceEvents } from '@kpi/demo';
import { createClient, type Client } from '@kpi/api-contract/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { OutgoingHttpHeaders } from 'node:http';
import type { AnswerOf, BodyAt, Method } from './answers.ts';

export const TOKENS = { read: 'read-token', ingest: 'ingest-token', admin: 'admin-token' } as const;

/** An answer as a test reads it: its status, and its body typed as the 2xx answer of the route the URL names. */
export class Answered<M extends Method, Url extends string> {
  constructor(
    readonly status: number,
    readonly body: AnswerOf<M, Url>,
    readonly headers: OutgoingHttpHeaders = {},
    /** The body as sent. */
    readonly text = '',
  ) {}

  /** An answer fastify's inject gave, its body parsed when it is JSON. */
  static of<M extends Method, Url extends string>(response: { statusCode: number; body: string; headers: OutgoingHttpHeaders }): Answered<M, Url> {
    let body: unknown = response.body;
    try {
      body = JSON.parse(response.body);
    } catch {
      /* not JSON */
    }
    // The contract types what a route answers; the answer here is as sent, for any status.
    return new Answered<M, Url>(response.statusCode, body as AnswerOf<M, Url>, response.headers, response.body);
  }

  /** The body, typed as the route declares it for this status (a refusal's, say); fails the test when the answer has another status. */
  bodyAt<S extends number>(status: S): BodyAt<M, Url, S> {
    expect(this.status, JSON.stringify(this.body)).toBe(status);
    return this.body as BodyAt<M, Url, S>;
  }
}

export interface TestPipeline {
  runtime: Runtime;
  api: Api;
  env: Record<string, string>;
  /** Produces events with kafkajs to their topics, as any producer would. */
  produce(events: AnyEvent[]): Promise<void>;
  /** The typed API client (packages/api-contract), in-process, with a token of each role. */
  client: Record<keyof typeof TOKENS, Client>;
  /**
   * GET a raw URL through the API (in-process inject) with a token: status and parsed body, for
   * any status (the refusals too); the body's type is the 2xx answer of the route the URL names.
   */
  get<const Url extends string>(url: Url, token?: string): Promise<Answered<'GET', Url>>;
  post<const Url extends string>(url: Url, payload: unknown, token?: string): Promise<Answered<'POST', Url>>;
  /** Waits until every recompute job queued so far has run. */
  settle(): Promise<void>;
  /** Stops one role of the pipeline before the others (the API and the rest keep running). */
  stopRole(id: 'ingest' | 'worker'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An isolated pipeline on the shared infrastructure: its own topics, consumer group,
 * ClickHouse database and queue prefix, with ingest and worker roles running in this process.
 */
export async function startPipeline(
  options: { roles?: ('ingest' | 'worker')[]; env?: Record<string, string>; ingest?: Partial<IngestOptions>; /** The instant reads are judged at (default: the system clock). */ clock?: () => Date } = {},
): Promise<TestPipeline> {
  const env = isolatedEnv({ KPI_API_TOKENS: `${TOKENS.read}:read,${TOKENS.ingest}:ingest,${TOKENS.admin}:admin`, INGEST_BATCH_MAX_WAIT_MS: '50', ...options.env });
  const config = loadConfig(env);
  const runtime = await createRuntime(config, options.clock ? { clock: options.clock } : {});
  const handles: RoleHandle[] = [];
  const roles = options.roles ?? ['ingest', 'worker'];
  if (roles.includes('ingest')) handles.push(await startIngestRole(runtime, options.ingest));
  if (roles.includes('worker')) handles.push(await startWorkerRole(runtime));
  const api = await buildApi({ runtime, tokens: config.apiTokens! });
  const patientQueues = createQueues(runtime.workerRedis(), config.queuePrefix, runtime.log);
  const request = async <M extends 'GET' | 'POST', Url extends string>(method: M, path: Url, payload: unknown, token: string) =>
    Answered.of<M, Url>(await api.inject({ method, url: path, payload: payload as never, headers: token ? { authorization: `Bearer ${token}` } : {} }));
  return {
    runtime,
    api,
    env,
    client: {
      read: createClient({ token: TOKENS.read, fetch: injected(api) }),
      ingest: createClient({ token: TOKENS.ingest, fetch: injected(api) }),
      admin: createClient({ token: TOKENS.admin, fetch: injected(api) }),
    },
    async produce(events) {
      await produceEvents(await runtime.producer(), config.kafka.topics, events);
    },
    get: (path, token = TOKENS.read) => request('GET', path, undefined, token),
    post: (path, payload, token = TOKENS.ingest) => request('POST', path, payload, token),
    async settle() {
      // Through the workers' connection, which waits for Redis: a busy machine is not an outage.
      const queue = patientQueues.queue('kpiRecompute');
      for (let i = 0; i < 600; i++) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (Object.values(counts).every((n) => n === 0)) return;
        await sleep(50);
      }
      throw new Error('recompute jobs did not settle within 30 s');
    },
    async stopRole(id) {
      const index = handles.findIndex((handle) => handle.id === id);
      if (index < 0) throw new Error(`the ${id} role is not running`);
      const [handle] = handles.splice(index, 1);
      await handle!.stop();
    },
    async stop() {
      await api.close();
      await patientQueues.close();
      await stopAll(runtime, handles);
    },
  };
}

/** A fetch that hands each request to the API in this process (fastify's inject), for the typed client. */
export function injected(api: Api): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input), 'http://api.test');
    const response = await api.inject({
      method: (init?.method ?? 'GET') as 'GET',
      url: `${url.pathname}${url.search}`,
      headers: init?.headers as Record<string, string>,
      payload: init?.body as string | undefined,
    });
    const empty = response.statusCode === 204 || response.statusCode === 304;
    return new Response(empty ? null : new Uint8Array(response.rawPayload), { status: response.statusCode, headers: response.headers as Record<string, string> });
  };
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

/** How many distinct (source, id) events ClickHouse holds (of one source, if given), as the KPIs see them. */
export async function countEvents(runtime: Runtime, source?: string): Promise<number> {
  const [row] = await runtime.storage.query<{ n: number }>(
    'SELECT count() AS n FROM {db:Identifier}.events FINAL WHERE {source:String} = \'\' OR source = {source:String}',
    { source: source ?? '' },
  );
  return row!.n;
}
