import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerRole } from '@kpi/worker';
import type { RoleHandle } from '@kpi/runtime';
import { countEvents, eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';
import { connectorsFile, deliver, deliveries, metricValue, replayWithConfig } from './support/webhooks.ts';

// A stand-in for a ServiceNow instance: the Table API as ServiceNow documents it (Basic auth;
// `sysparm_query` with `sys_updated_on>=<time>^ORDERBYsys_updated_on`, `sysparm_limit`,
// `sysparm_offset`; `{"result": [...]}` with every field as `{value, display_value}` under
// `sysparm_display_value=all`; `X-Total-Count` and `Link` headers; 401 without credentials), plus
// what a real instance does to its clients now and then: 429 with Retry-After, 500s, a slow page.
const USER = 'kpi-reader';
const PASSWORD = 'servicenow-password';

interface Field {
  value: string;
  display_value: string;
}
type TableRecord = Record<string, Field>;
const field = (value: string, display = value): Field => ({ value, display_value: display });

/** An incident record as the Table API returns it with display values (display times in the user's zone, PDT here). */
function incident(number: number, fields: { group: string; priority: string; category?: string; opened: string; updated: string; resolved?: string }): TableRecord {
  const local = (utc: string) => new Date(Date.parse(`${utc.replace(' ', 'T')}Z`) - 7 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
  const at = (utc: string) => field(utc, local(utc));
  return {
    sys_id: field(`9d385017c611228701d22104cc95c${String(number).padStart(3, '0')}`),
    number: field(`INC${String(number).padStart(7, '0')}`),
    short_description: field(`Model incident ${number}`),
    state: fields.resolved ? field('6', 'Resolved') : field('2', 'In Progress'),
    priority: field(fields.priority, `${fields.priority} - ${['Critical', 'High', 'Moderate', 'Low', 'Planning'][Number(fields.priority) - 1]}`),
    category: field(fields.category ?? 'software', (fields.category ?? 'software').replace(/^./, (c) => c.toUpperCase())),
    assignment_group: field('287ebd7da9fe198100f92cc8d1d2154e', fields.group),
    opened_at: at(fields.opened),
    sys_created_on: at(fields.opened),
    sys_updated_on: at(fields.updated),
    resolved_at: fields.resolved ? at(fields.resolved) : field(''),
  };
}

/** The instance's incident table and what it does to the next requests. */
const instance = {
  records: new Map<string, TableRecord>(),
  /** Answers given before serving, one per request: a status and headers. */
  failures: [] as { status: number; headers?: Record<string, string> }[],
  /** A request that waits until released (a slow page), and whether one arrived. */
  hold: undefined as { offset: number; arrived: boolean; release: () => void; released: Promise<void> } | undefined,
  requests: [] as { query: string; offset: number; status: number }[],
};
const put = (record: TableRecord) => instance.records.set(record.number!.value, record);

function tableApi(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://instance');
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    instance.requests.push({ query: url.searchParams.get('sysparm_query') ?? '', offset: Number(url.searchParams.get('sysparm_offset') ?? 0), status });
    response.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers }).end(JSON.stringify(body));
  };
  if (request.headers.authorization !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) {
    return reply(401, { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });
  }
  if (url.pathname !== '/api/now/table/incident') return reply(400, { error: { message: 'Invalid table', detail: url.pathname }, status: 'failure' });
  const failure = instance.failures.shift();
  if (failure) return reply(failure.status, { error: { message: failure.status === 429 ? 'Too many requests' : 'Internal error' }, status: 'failure' }, failure.headers);
  const query = url.searchParams.get('sysparm_query') ?? '';
  const since = /^sys_updated_on>=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\^ORDERBYsys_updated_on$/.exec(query)?.[1];
  if (!since || url.searchParams.get('sysparm_display_value') !== 'all') return reply(400, { error: { message: `unexpected query ${query}` }, status: 'failure' });
  const limit = Number(url.searchParams.get('sysparm_limit'));
  const offset = Number(url.searchParams.get('sysparm_offset'));
  const matching = [...instance.records.values()].filter((record) => record.sys_updated_on!.value >= since).sort((a, b) => a.sys_updated_on!.value.localeCompare(b.sys_updated_on!.value) || a.number!.value.localeCompare(b.number!.value));
  const serve = () =>
    reply(200, { result: matching.slice(offset, offset + limit) }, { 'x-total-count': String(matching.length), link: `<${url.origin}${url.pathname}?sysparm_offset=0>;rel="first"` });
  const hold = instance.hold;
  if (hold && offset === hold.offset && !hold.arrived) {
    hold.arrived = true;
    void hold.released.then(() => (response.destroyed ? undefined : serve()));
    return;
  }
  serve();
}

let server: Server;
let instanceUrl: string;
let pipeline: TestPipeline;
let restarted: RoleHandle | undefined;
const config = (groups: string) => `
servicenow:
  instance_url: ${instanceUrl}
  user: ${USER}
  password: \${SN_PASSWORD}
  poll_interval: 1h
  assignment_groups: ${groups}
`;
const GROUPS = '{"ML Platform": ml-platform}';

beforeAll(async () => {
  server = createServer(tableApi);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  instanceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.SN_PASSWORD = PASSWORD;
  pipeline = await startPipeline({ env: { KPI_CONNECTORS_FILE: connectorsFile(config(GROUPS)) } });
  // The schedule's first poll runs at start-up: the table is empty yet.
  await eventually(async () => ((await state()).last_poll_at !== null ? true : undefined), 30_000, 'the first scheduled poll');
});
afterAll(async () => {
  instance.hold?.release();
  await restarted?.stop();
  await pipeline?.stop();
  await new Promise((resolve) => server?.close(resolve));
});
const { value } = kpiReader(() => pipeline);

/** The connector's state as an admin reads it. */
async function state() {
  const { pulls } = await pipeline.client.admin.get('/v1/webhooks/pulls');
  expect(pulls.map((pull) => pull.connector)).toEqual(['servicenow']);
  return pulls[0]!;
}
/** One run of the repeatable poll (it runs every poll_interval), waited for until it ends. */
async function pollOnce() {
  const before = (await state()).last_poll_at;
  await pipeline.runtime.queues.queue('servicenowPoll').add('servicenow-poll', {});
  return eventually(async () => {
    const now = await state();
    return now.last_poll_at !== before ? now : undefined;
  }, 60_000, 'a poll');
}
const skippedTotal = () => metricValue(pipeline, 'kpi_connector_records_skipped_total', { connector: 'servicenow' });
const failures = (kind: string) => metricValue(pipeline, 'kpi_connector_pull_failures_total', { connector: 'servicenow', kind });

describe('servicenow connector (incidents pulled from the Table API)', { timeout: 180_000 }, () => {
  it('reads two pages after a 429: every mapped incident once, the unmapped group skipped and counted', async () => {
    // 104 ML Platform incidents opened in June, updated a minute after opening; every 35th is
    // priority 1 (sev0): INC1000, INC1035, INC1070 -> 3 sev0. One Service Desk incident, unmapped.
    for (let i = 0; i < 104; i++) {
      const opened = new Date(Date.parse('2026-06-01T00:00:00Z') + i * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
      const updated = new Date(Date.parse(`${opened.replace(' ', 'T')}Z`) + 60_000).toISOString().replace('T', ' ').slice(0, 19);
      put(incident(1000 + i, { group: 'ML Platform', priority: i % 35 === 0 ? '1' : '3', category: i === 1 ? 'database' : 'software', opened, updated }));
    }
    put(incident(2000, { group: 'Service Desk', priority: '2', opened: '2026-06-01 05:00:00', updated: '2026-06-01 05:30:00' }));
    instance.failures.push({ status: 429, headers: { 'retry-after': '1' } });
    const [skippedBefore, limitedBefore] = [await skippedTotal(), await failures('http_429')];
    const from = instance.requests.length;
    const polled = await pollOnce();
    // The 429, page 1 (100 records) from the start, page 2 (5) from the last time of page 1.
    const requests = instance.requests.slice(from);
    expect(requests.map((request) => request.status)).toEqual([429, 200, 200]);
    expect(requests[1]).toEqual({ query: 'sys_updated_on>=1970-01-01 00:00:00^ORDERBYsys_updated_on', offset: 0, status: 200 });
    expect(requests[2]).toMatchObject({ query: `sys_updated_on>=${[...instance.records.values()].map((r) => r.sys_updated_on!.value).sort()[99]}^ORDERBYsys_updated_on`, offset: 1 });
    expect(polled).toMatchObject({ cursor: '2026-06-05 07:01:00', consecutive_failures: 0, last_poll: { pages: 2, events: 104, skipped: 1 }, last_error: expect.stringMatching(/HTTP 429 \(rate limited\); attempt 2 in 1000 ms/) });
    expect(polled.last_success_at).toBe(polled.last_poll_at);
    expect([await skippedTotal(), await failures('http_429')]).toEqual([skippedBefore + 1, limitedBefore + 1]);
    // By hand: 104 incidents opened in June, 3 of them sev0, one of category database (other).
    const sev0 = await eventually(async () => {
      const row = await value('sev0_incidents', 'month', '2026-06-01', 'ml-platform');
      return row.sample_size === 104 ? row : undefined;
    }, 60_000, '104 incidents');
    expect(sev0.value).toBe(3);
    expect(await countEvents(pipeline.runtime, 'servicenow')).toBe(104);
    // The page with the skipped record is kept as unmappable, the other as accepted.
    const pages = await deliveries(pipeline, { connector: 'servicenow' });
    expect(pages.map((page) => [page.outcome, page.events.length]).sort()).toEqual([['accepted', 5], ['unmappable', 99]]);
    expect(pages.find((page) => page.outcome === 'unmappable')!.reason).toMatch(/INC0002000: assignment group "Service Desk" is not in servicenow\.assignment_groups/);
  });

  it('picks up a record updated later (resolved) through a run of 500s, and repeats nothing', async () => {
    const critical = instance.records.get('INC0001035')!;
    put({ ...critical, state: field('6', 'Resolved'), sys_updated_on: field('2026-06-10 12:00:00'), resolved_at: field('2026-06-02 17:00:00') });
    instance.failures.push({ status: 500 }, { status: 500 }, { status: 500 });
    const failedBefore = await failures('http_5xx');
    const polled = await pollOnce();
    expect(await failures('http_5xx')).toBe(failedBefore + 3);
    expect(polled).toMatchObject({ cursor: '2026-06-10 12:00:00', consecutive_failures: 0, last_error: expect.stringMatching(/HTTP 500; attempt 4 in 2000 ms/) });
    // INC1035 opened 2026-06-02 11:00 and resolved 17:00: TTM 6 h, its only mitigation.
    const ttm = await eventually(async () => {
      const row = await value('time_to_mitigate_hours', 'month', '2026-06-01', 'ml-platform');
      return row.sample_size === 1 ? row : undefined;
    }, 60_000, 'the resolution');
    expect(ttm.value).toBe(6);
    // The record re-read at the cursor and the 104 incidents: 104 opened + 1 resolved events.
    await pollOnce();
    await pipeline.settle();
    expect(await countEvents(pipeline.runtime, 'servicenow')).toBe(105);
  });

  it('resumes after a restart in the middle of a poll: nothing missed, nothing repeated', async () => {
    // 110 incidents more: two pages; the worker stops while the second is on its way.
    for (let i = 0; i < 110; i++) {
      const at = new Date(Date.parse('2026-06-20T00:00:00Z') + i * 60_000).toISOString().replace('T', ' ').slice(0, 19);
      put(incident(3000 + i, { group: 'ML Platform', priority: '4', opened: at, updated: at }));
    }
    let release!: () => void;
    instance.hold = { offset: 1, arrived: false, release: () => release(), released: new Promise<void>((resolve) => (release = resolve)) };
    const { cursor: before } = await state();
    await pipeline.runtime.queues.queue('servicenowPoll').add('servicenow-poll', {});
    await eventually(async () => (instance.hold?.arrived ? true : undefined), 30_000, 'the second page requested');
    await pipeline.stopRole('worker');
    instance.hold.release();
    // Page one was done: the cursor moved to its last record, and no poll was recorded as ended.
    const stopped = await state();
    expect(stopped.cursor).toBe('2026-06-20 01:38:00');
    expect(stopped.cursor).not.toBe(before);
    const requestsBefore = instance.requests.length;
    restarted = await startWorkerRole(pipeline.runtime);
    // The restarted worker polls from the cursor kept in Redis.
    await pollOnce();
    const resumed = instance.requests.slice(requestsBefore).filter((request) => request.status === 200);
    expect(resumed[0]).toEqual({ query: 'sys_updated_on>=2026-06-20 01:38:00^ORDERBYsys_updated_on', offset: 0, status: 200 });
    // Every new incident once: 105 + 110 events.
    await eventually(async () => ((await value('sev0_incidents', 'month', '2026-06-01', 'ml-platform')).sample_size === 214 ? true : undefined), 60_000, 'the 110 new incidents');
    expect(await countEvents(pipeline.runtime, 'servicenow')).toBe(215);
  });

  it('replays a page after its assignment group is mapped; is not a webhook', async () => {
    const [page] = await deliveries(pipeline, { connector: 'servicenow', outcome: 'unmappable' });
    const replay = await replayWithConfig(pipeline, config('{"ML Platform": ml-platform, "Service Desk": service-desk}'), page!.id);
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    expect(replay.body.events).toContain('INC0002000:opened');
    const { incidents } = await eventually(async () => {
      const answer = await pipeline.client.read.get('/v1/incidents', { query: { team: 'service-desk' } });
      return answer.incidents.length === 1 ? answer : undefined;
    }, 60_000, 'the replayed incident');
    expect(incidents[0]).toMatchObject({ incident_id: 'servicenow:INC0002000', severity: 'sev1', category: 'other', tier: 2 });
    const posted = await deliver(pipeline, 'servicenow', '{}', { authorization: `Bearer ${TOKENS.admin}` });
    expect([posted.status, posted.body.message]).toEqual([404, expect.stringMatching(/servicenow is pulled from the tool/)]);
  });
});
