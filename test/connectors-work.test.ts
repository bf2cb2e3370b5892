import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';
import { connectorsFile, deliver, deliveries, hmacHex, metricValue, replayWithConfig } from './support/webhooks.ts';

// Jira, Datadog and CDEvents cannot run here. Their deliveries follow the shapes their documentation
// defines (Atlassian's issue webhook examples, signed with the webhook's secret; Datadog's Webhooks
// integration with the payload template of the README; the CDEvents 0.4.1 specification's own
// conformance examples, vendored in packages/connectors), and each is expected to change its KPI
// by what SPEC §5 makes of it, worked out by hand below.
const JIRA_SECRET = 'jira-webhook-secret';
const DATADOG_TOKEN = 'datadog-connector-token';
const CDEVENTS_TOKEN = 'cdevents-connector-token';
const config = ({ jiraProjects = '{MLP: ml-platform}', datadogTeam = '', cdeventsServices = '{ranker: {team: ranking, tier: 1}}' } = {}) => `
jira: {secret: ${JIRA_SECRET}, projects: ${jiraProjects}}
datadog: {token: ${DATADOG_TOKEN}${datadogTeam ? `, default_team: ${datadogTeam}` : ''}}
cdevents: {token: ${CDEVENTS_TOKEN}, services: ${cdeventsServices}}
`;

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ env: { KPI_CONNECTORS_FILE: connectorsFile(config()) } });
});
afterAll(() => pipeline?.stop());
const { value } = kpiReader(() => pipeline);
/** Polls a KPI value until `ready` holds, then returns it. */
const settled = (what: string, read: () => ReturnType<typeof value>, ready: (row: Awaited<ReturnType<typeof value>>) => boolean) =>
  eventually(async () => {
    const row = await read();
    return ready(row) ? row : undefined;
  }, 60_000, what);

describe('jira connector (Cloud / Data Center webhooks, Jira Service Management incidents)', { timeout: 180_000 }, () => {
  // An issue as Jira's webhooks carry it (REST API v2 representation).
  const issue = (key: string, type: string, fields: Record<string, unknown> = {}) => ({
    id: String(10000 + Number(key.split('-')[1])),
    self: `https://acme.atlassian.net/rest/api/2/issue/${key}`,
    key,
    fields: {
      summary: `Issue ${key}`,
      issuetype: { self: 'https://acme.atlassian.net/rest/api/2/issuetype/10001', id: '10001', description: '', name: type, subtask: false, hierarchyLevel: 0 },
      project: { self: 'https://acme.atlassian.net/rest/api/2/project/10000', id: '10000', key: key.split('-')[0], name: 'ML Platform', projectTypeKey: 'software' },
      priority: { self: 'https://acme.atlassian.net/rest/api/2/priority/3', iconUrl: 'https://acme.atlassian.net/images/icons/priorities/medium.svg', name: 'Medium', id: '3' },
      labels: [],
      status: { self: 'https://acme.atlassian.net/rest/api/2/status/10000', name: 'To Do', id: '10000', statusCategory: { id: 2, key: 'new', name: 'To Do' } },
      created: '2026-03-01T09:00:00.000+0000',
      updated: '2026-03-01T09:00:00.000+0000',
      reporter: { accountId: '5b10a2844c20165700ede21g', displayName: 'Someone' },
      ...fields,
    },
  });
  const webhook = (event: 'jira:issue_created' | 'jira:issue_updated' | 'comment_created', at: string, body: unknown, changelog?: unknown) =>
    JSON.stringify({
      timestamp: Date.parse(at),
      webhookEvent: event,
      issue_event_type_name: event === 'jira:issue_created' ? 'issue_created' : 'issue_generic',
      user: { self: 'https://acme.atlassian.net/rest/api/2/user?accountId=5b10a2844c20165700ede21g', accountId: '5b10a2844c20165700ede21g', displayName: 'Someone', active: true, timeZone: 'Europe/London' },
      issue: body,
      ...(changelog ? { changelog } : {}),
    });
  const change = (id: string, field: string, from: string, to: string) => ({ id, items: [{ field, fieldtype: 'jira', fieldId: field, from: '1', fromString: from, to: '2', toString: to }] });
  // X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>; X-Atlassian-Webhook-Identifier is the delivery's id.
  const signed = (body: string, delivery: string, secret = JIRA_SECRET) => ({ 'x-hub-signature': `sha256=${hmacHex(secret, body)}`, 'x-atlassian-webhook-identifier': delivery, 'user-agent': 'Atlassian Webhook HTTP Client' });
  const send = (body: string, delivery: string, secret?: string) => deliver(pipeline, 'jira', body, signed(body, delivery, secret));

  it('closes work items once, at their first close: tech_debt_closed counts the ML debt', async () => {
    const debt = webhook('jira:issue_updated', '2026-03-10T12:00:00Z', issue('MLP-1', 'Task', { labels: ['ml-debt'] }), change('20001', 'status', 'In Progress', 'Done'));
    const first = await send(debt, 'jira-d1');
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body.events).toEqual(['jira:MLP-1:closed']);
    // Another team's debt (a team: label wins over the project) and an item that is not debt.
    expect((await send(webhook('jira:issue_updated', '2026-03-11T12:00:00Z', issue('MLP-2', 'Bug', { labels: ['tech-debt', 'team:ranking'] }), change('20002', 'status', 'To Do', 'Closed')), 'jira-d2')).status).toBe(202);
    expect((await send(webhook('jira:issue_updated', '2026-03-12T12:00:00Z', issue('MLP-3', 'Story'), change('20003', 'status', 'In Review', 'Resolved')), 'jira-d3')).status).toBe(202);
    // Jira's retry of the first delivery: the same delivery, the same event.
    expect((await send(debt, 'jira-d1')).body.events).toEqual(['jira:MLP-1:closed']);
    // MLP-1 reopened in April and closed again: it counted in March, at its first close.
    const again = await send(webhook('jira:issue_updated', '2026-04-02T12:00:00Z', issue('MLP-1', 'Task', { labels: ['ml-debt'] }), change('20009', 'status', 'Reopened', 'Done')), 'jira-d4');
    expect(again.status).toBe(200);
    expect(again.body.ignored).toMatch(/MLP-1 was closed before \(2026-03-10T12:00:00(\.000)?Z\)/);
    // By hand: Q1 has MLP-1 (ml-platform) and MLP-2 (ranking) as ML debt; MLP-3 is not debt; Q2 nothing.
    await settled('debt closed in Q1', () => value('tech_debt_closed', 'quarter', '2026-01-01'), (row) => row.value === 2);
    await settled('ml-platform debt', () => value('tech_debt_closed', 'quarter', '2026-01-01', 'ml-platform'), (row) => row.value === 1);
    await settled('ranking debt', () => value('tech_debt_closed', 'quarter', '2026-01-01', 'ranking'), (row) => row.value === 1);
    await pipeline.settle();
    expect((await value('tech_debt_closed', 'quarter', '2026-04-01')).value).toBe(0);
    expect(await countEvents(pipeline.runtime, 'jira')).toBe(3);
  });

  it('maps Service Management incidents: opened with Jira times, severity corrected by priority, resolved', async () => {
    // Created at 08:30 (+0000) and resolved at 14:30: mitigated by its resolution, TTM 6 h.
    const created = webhook('jira:issue_created', '2026-03-12T08:31:00Z', issue('ITSM-7', 'Incident', { project: { key: 'ITSM' }, priority: { name: 'Highest', id: '1' }, labels: ['team:fraud', 'category:model', 'tier:1'], created: '2026-03-12T08:30:00.000+0000' }));
    const opened = await send(created, 'jira-i1');
    expect(opened.status, JSON.stringify(opened.body)).toBe(202);
    expect(opened.body.events).toEqual(['jira:ITSM-7:created']);
    // A second incident opened as Highest, lowered to Medium: not a sev0 any more.
    expect((await send(webhook('jira:issue_created', '2026-03-13T10:00:00Z', issue('ITSM-8', 'Incident', { project: { key: 'ITSM' }, priority: { name: 'Highest', id: '1' }, labels: ['team:fraud'], created: '2026-03-13T09:58:00.000-0200' })), 'jira-i2')).status).toBe(202);
    const lowered = await send(webhook('jira:issue_updated', '2026-03-13T11:00:00Z', issue('ITSM-8', 'Incident', { labels: ['team:fraud'] }), change('30001', 'priority', 'Highest', 'Medium')), 'jira-i3');
    expect(lowered.body.events).toEqual(['jira:ITSM-8:30001:priority']);
    const resolved = await send(webhook('jira:issue_updated', '2026-03-12T14:30:00Z', issue('ITSM-7', 'Incident', { labels: ['team:fraud'] }), change('30002', 'status', 'Investigating', 'Resolved')), 'jira-i4');
    expect(resolved.body.events).toEqual(['jira:ITSM-7:30002:resolved']);
    const ttm = await settled('TTM of ITSM-7', () => value('time_to_mitigate_hours', 'month', '2026-03-01', 'fraud', '1'), (row) => row.sample_size === 1);
    expect(ttm.value).toBe(6);
    // By hand: two incidents in March, ITSM-7 sev0 (category model), ITSM-8 sev2 after its correction (category other).
    await settled('one sev0 after the correction', () => value('sev0_incidents', 'month', '2026-03-01', 'fraud'), (row) => row.value === 1 && row.sample_size === 2);
    await settled('one model incident', () => value('model_incidents', 'month', '2026-03-01', 'fraud'), (row) => row.value === 1 && row.sample_size === 2);
    // ITSM-8: tier 2 by default, detected at 09:58-0200 = 11:58 UTC.
    const [itsm8] = (await pipeline.client.read.get('/v1/incidents', { query: { team: 'fraud' } })).incidents.filter((row) => row.incident_id === 'jira:ITSM-8');
    expect(itsm8).toMatchObject({ tier: 2, severity: 'sev2', category: 'other' });
    expect(Date.parse(itsm8!.detected_at!)).toBe(Date.parse('2026-03-13T11:58:00Z'));
  });

  it('refuses a bad signature, ignores what carries nothing, keeps an issue without team for replay', async () => {
    const body = webhook('jira:issue_updated', '2026-03-20T12:00:00Z', issue('MLP-9', 'Task', { labels: ['ml-debt'] }), change('20010', 'status', 'To Do', 'Done'));
    const before = await metricValue(pipeline, 'kpi_webhook_signature_failures_total', { connector: 'jira' });
    expect((await send(body, 'jira-x1', 'not-the-secret')).status).toBe(401);
    expect(await metricValue(pipeline, 'kpi_webhook_signature_failures_total', { connector: 'jira' })).toBe(before + 1);
    expect((await deliveries(pipeline, { connector: 'jira' })).map((row) => row.delivery_id)).not.toContain('jira-x1');
    const comment = await send(webhook('comment_created', '2026-03-20T12:00:00Z', issue('MLP-9', 'Task')), 'jira-x2');
    expect([comment.status, comment.body.ignored]).toEqual([200, expect.stringMatching(/comment_created/)]);
    const edited = await send(webhook('jira:issue_updated', '2026-03-20T12:00:00Z', issue('MLP-9', 'Task'), change('20011', 'summary', 'a', 'b')), 'jira-x3');
    expect(edited.body.ignored).toMatch(/did not move to a done status/);
    const unowned = await send(webhook('jira:issue_updated', '2026-03-21T12:00:00Z', issue('DATA-4', 'Task', { labels: ['tech-debt'] }), change('20012', 'status', 'To Do', 'Done')), 'jira-x4');
    expect(unowned.status).toBe(422);
    expect(unowned.body.message).toMatch(/project "DATA" is not in jira\.projects/);
    expect((await deliveries(pipeline, { connector: 'jira', outcome: 'unmappable' })).map((row) => row.id)).toEqual([unowned.body.delivery]);
    const replay = await replayWithConfig(pipeline, config({ jiraProjects: '{MLP: ml-platform, DATA: data-eng}' }), unowned.body.delivery!);
    expect(replay).toMatchObject({ status: 202, body: { events: ['jira:DATA-4:closed'] } });
    await settled('the replayed item', () => value('tech_debt_closed', 'quarter', '2026-01-01', 'data-eng'), (row) => row.value === 1);
  });
});

describe('datadog connector (Webhooks integration, the README payload template)', { timeout: 180_000 }, () => {
  // What Datadog posts for the template: every variable substituted into its string.
  const notification = (fields: { id: string; alertId: string; cycle: string; transition: string; title: string; tags: string; at?: number; priority?: string }) =>
    JSON.stringify({
      id: fields.id,
      alert_id: fields.alertId,
      cycle_key: fields.cycle,
      transition: fields.transition,
      title: fields.title,
      date: String(fields.at ?? Date.now() - 60_000),
      priority: fields.priority ?? 'P2',
      tags: fields.tags,
      link: `https://app.datadoghq.com/event/event?id=${fields.id}`,
    });
  const bearer = (token = DATADOG_TOKEN) => ({ authorization: `Bearer ${token}`, 'user-agent': 'Datadog Webhooks' });
  const triage = (team: string, triaged?: 'true' | 'false') => pipeline.client.read.get('/v1/triage', { query: { team, ...(triaged ? { triaged } : {}) } }).then((answer) => answer.alerts);
  const monthStart = () => new Date().toISOString().slice(0, 8) + '01';

  it('turns triggered monitors into alerts awaiting triage; triaging them makes alert_precision', async () => {
    const drift = notification({ id: '7001', alertId: '12345', cycle: '987001', transition: 'Triggered', title: '[Triggered] Ranker prediction drift', tags: 'env:prod,team:search,model_id:ranker', priority: 'P1' });
    const fired = await deliver(pipeline, 'datadog', drift, bearer());
    expect(fired.status, JSON.stringify(fired.body)).toBe(202);
    expect(fired.body.events).toEqual(['datadog:12345:987001']);
    expect((await deliver(pipeline, 'datadog', notification({ id: '7002', alertId: '12346', cycle: '987002', transition: 'Re-Triggered', title: '[Re-Triggered] Ranker null rate', tags: 'team:search, model:ranker' }), bearer())).status).toBe(202);
    // Datadog's retry of the first notification, and its recovery: one alert each cycle.
    expect((await deliver(pipeline, 'datadog', drift, bearer())).body.events).toEqual(['datadog:12345:987001']);
    const recovered = await deliver(pipeline, 'datadog', notification({ id: '7003', alertId: '12345', cycle: '987001', transition: 'Recovered', title: '[Recovered] Ranker prediction drift', tags: 'team:search' }), bearer());
    expect([recovered.status, recovered.body.ignored]).toEqual([200, expect.stringMatching(/"Recovered" is not a firing/)]);
    const awaiting = await eventually(async () => {
      const alerts = await triage('search', 'false');
      return alerts.length === 2 ? alerts : undefined;
    }, 60_000, 'two search alerts awaiting triage');
    expect(awaiting.map((alert) => [alert.alert_id, alert.name, alert.model_id]).sort()).toEqual([
      ['datadog:12345:987001', '[Triggered] Ranker prediction drift', 'ranker'],
      ['datadog:12346:987002', '[Re-Triggered] Ranker null rate', 'ranker'],
    ]);
    await pipeline.client.ingest.post('/v1/triage/:alert_id', { params: { alert_id: 'datadog:12345:987001' }, body: { actionable: true } });
    await pipeline.client.ingest.post('/v1/triage/:alert_id', { params: { alert_id: 'datadog:12346:987002' }, body: { actionable: false } });
    // alert_precision = actionable / triaged = 1 / 2, in the month of the triage (now).
    const precision = await settled('precision over both triages', () => value('alert_precision', 'month', monthStart(), 'search'), (row) => row.denominator === 2);
    expect([precision.value, precision.numerator]).toEqual([0.5, 1]);
  });

  it('refuses a wrong token, keeps a monitor without team for replay with a default team', async () => {
    const body = notification({ id: '7010', alertId: '22222', cycle: '990001', transition: 'Triggered', title: '[Triggered] Feature store lag', tags: 'env:prod' });
    expect((await deliver(pipeline, 'datadog', body, bearer('wrong-datadog-token'))).status).toBe(401);
    expect((await deliver(pipeline, 'datadog', body, {})).status).toBe(401);
    expect((await deliveries(pipeline, { connector: 'datadog' })).map((row) => row.delivery_id)).not.toContain('7010');
    const unowned = await deliver(pipeline, 'datadog', body, bearer());
    expect(unowned.status).toBe(422);
    expect(unowned.body.message).toMatch(/no team:<name> tag and no datadog\.default_team/);
    const replay = await replayWithConfig(pipeline, config({ datadogTeam: 'ml-platform' }), unowned.body.delivery!);
    expect(replay).toMatchObject({ status: 202, body: { events: ['datadog:22222:990001'] } });
    await eventually(async () => ((await triage('ml-platform')).length === 1 ? true : undefined), 30_000, 'the replayed alert');
  });
});

describe('cdevents connector (CDEvents 0.4, the specification\'s conformance examples)', { timeout: 180_000 }, () => {
  const example = (name: string) => JSON.parse(readFileSync(new URL(`../packages/connectors/vendor/cdevents-spec-0.4.1/conformance/${name}.json`, import.meta.url), 'utf8')) as Record<string, any>;
  /** A conformance example about our service, at a time, with its own id. */
  const cdevent = (name: string, id: string, timestamp: string, subject: Record<string, unknown> = {}, customData?: unknown) => {
    const event = example(name);
    event.context = { ...event.context, id, timestamp };
    event.subject = { ...event.subject, ...subject, content: { ...event.subject.content, ...((subject.content as object) ?? {}) } };
    if (customData === undefined) delete event.customData;
    else event.customData = customData;
    return event;
  };
  const deploy = (name: string, id: string, timestamp: string, version: string, service = 'ranker', customData?: unknown) =>
    cdevent(name, id, timestamp, { id: service, content: { environment: { id: 'production', source: '/clusters/prod' }, artifactId: `pkg:oci/${service}@${version}` } }, customData);
  const bearer = { authorization: `Bearer ${CDEVENTS_TOKEN}` };
  const send = (body: unknown) => deliver(pipeline, 'cdevents', JSON.stringify(body), bearer);
  // A structured-mode CloudEvent carrying the CDEvent (as the CDEvents SDKs send it over HTTP).
  const structured = (event: Record<string, any>) => ({ specversion: '1.0', id: event.context.id, source: event.context.source, type: event.context.type, time: event.context.timestamp, datacontenttype: 'application/json', data: event });

  it('deploys, upgrades and rolls back: releases_delivered and change_failure_rate', async () => {
    const first = await send(deploy('service_deployed', 'cd-1', '2026-02-02T10:00:00Z', 'sha256%3Aaaaa', 'ranker', { readiness_first_pass: true }));
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body.events).toEqual(['cd-1']);
    expect((await send(structured(deploy('service_upgraded', 'cd-2', '2026-02-05T10:00:00Z', 'sha256%3Abbbb')))).status).toBe(202);
    await settled('two releases', () => value('releases_delivered', 'month', '2026-02-01', 'ranking', '1'), (row) => row.value === 2);
    // Rolled back to the first artifact: the upgrade is rolled back (two days after its deploy, within 7).
    const back = await send(deploy('service_rolledback', 'cd-3', '2026-02-07T10:00:00Z', 'sha256%3Aaaaa'));
    expect(back.body.events).toEqual(['cd-3:rollback:cdevents:ranker:pkg:oci/ranker@sha256%3Abbbb']);
    const cfr = await settled('the rollback', () => value('change_failure_rate', 'month', '2026-02-01', 'ranking', '1'), (row) => row.numerator === 1);
    expect([cfr.value, cfr.denominator]).toEqual([0.5, 2]);
    // Only the first deploy reported readiness (first pass): 1 / 1.
    const readiness = await settled('readiness', () => value('readiness_first_pass_rate', 'month', '2026-02-01', 'ranking', '1'), (row) => row.denominator === 1);
    expect(readiness.value).toBe(1);
    // A deploy in another environment is not a release.
    expect((await send(cdevent('service_deployed', 'cd-4', '2026-02-08T10:00:00Z', { id: 'ranker' }))).body.ignored).toMatch(/"test123" is not a production environment/);
  });

  it('opens and resolves incidents and closes tickets', async () => {
    const detected = cdevent('incident_detected', 'cd-10', '2026-02-10T08:00:00Z', { id: 'inc-42' }, { team: 'ranking', severity: 'sev0', category: 'model', tier: 1 });
    expect((await send(detected)).body.events).toEqual(['cd-10']);
    expect((await send(cdevent('incident_resolved', 'cd-11', '2026-02-10T11:30:00Z', { id: 'inc-42' }))).body.events).toEqual(['cd-11']);
    // Reported by a person, without customData, of a service in the file: sev2, other, tier 2.
    expect((await send(cdevent('incident_reported', 'cd-12', '2026-02-11T08:00:00Z', { id: 'inc-43', content: { service: { id: 'ranker' } } }))).status).toBe(202);
    // TTM of inc-42 = 11:30 - 08:00 = 3.5 h; one sev0 among the two incidents.
    const ttm = await settled('TTM of inc-42', () => value('time_to_mitigate_hours', 'month', '2026-02-01', 'ranking', '1'), (row) => row.sample_size === 1);
    expect(ttm.value).toBe(3.5);
    const sev0 = await settled('both incidents', () => value('sev0_incidents', 'month', '2026-02-01', 'ranking'), (row) => row.sample_size === 2);
    expect(sev0.value).toBe(1);
    const ticket = cdevent('ticket_closed', 'cd-13', '2026-02-12T08:00:00Z', { id: 'ticket-7', content: { labels: ['tech-debt', 'team:search'] } });
    expect((await send(ticket)).body.events).toEqual(['cd-13']);
    await settled('the debt ticket', () => value('tech_debt_closed', 'quarter', '2026-01-01', 'search'), (row) => row.value === 1);
  });

  it('refuses a wrong token and invalid CDEvents, ignores other types, counts a redelivery once, replays an unmapped service', async () => {
    const body = deploy('service_deployed', 'cd-20', '2026-02-15T10:00:00Z', '2.0.0', 'scorer');
    const stored = (await deliveries(pipeline, { connector: 'cdevents' })).length;
    expect((await deliver(pipeline, 'cdevents', JSON.stringify(body), { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await deliveries(pipeline, { connector: 'cdevents' })).toHaveLength(stored);
    const invalid = deploy('service_deployed', 'cd-21', '2026-02-15T10:00:00Z', '2.0.0');
    delete invalid.subject.content.environment;
    const refused = await send(invalid);
    expect([refused.status, refused.body.message]).toEqual([400, "dev.cdevents.service.deployed.0.2.0 does not match its CDEvents 0.4.1 schema: /subject/content must have required property 'environment'"]);
    const pipelineRun = example('pipelinerun_finished');
    expect((await send(pipelineRun)).body.ignored).toMatch(/pipelinerun\.finished\.0\.2\.0 carries nothing to measure/);
    const unmapped = await send(body);
    expect(unmapped.status).toBe(422);
    expect(unmapped.body.message).toMatch(/service scorer is not in cdevents\.services/);
    const replay = await replayWithConfig(pipeline, config({ cdeventsServices: '{ranker: {team: ranking, tier: 1}, scorer: {team: payments, tier: 2}}' }), unmapped.body.delivery!);
    expect(replay).toMatchObject({ status: 202, body: { events: ['cd-20'] } });
    // The tool's retry of the ticket: the same event.
    const ticket = cdevent('ticket_closed', 'cd-13', '2026-02-12T08:00:00Z', { id: 'ticket-7', content: { labels: ['tech-debt', 'team:search'] } });
    expect((await send(ticket)).body.events).toEqual(['cd-13']);
    await settled('the replayed release', () => value('releases_delivered', 'month', '2026-02-01', 'payments'), (row) => row.value === 1);
    await pipeline.settle();
    expect((await value('tech_debt_closed', 'quarter', '2026-01-01', 'search')).value).toBe(1);
  });
});
