import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { artifactVersion, mapCdevents } from '../src/cdevents.ts';
import { rfc3339 } from '../src/connector.ts';
import { DATADOG_PAYLOAD_TEMPLATE } from '../src/datadog.ts';
import { cdeventsConfig } from '../src/cdevents.ts';
import { nextPage, servicenowTime, SERVICENOW_PAGE_SIZE } from '../src/servicenow.ts';

const conformance = (name: string) => JSON.parse(readFileSync(new URL(`../vendor/cdevents-spec-0.4.1/conformance/${name}.json`, import.meta.url), 'utf8')) as Record<string, any>;
const cdevents = cdeventsConfig.parse({ token: 'cdevents-token', environments: ['test123'], services: { mySubject123: { team: 'ranking', tier: 1 } } });

describe('times as the tools write them', () => {
  it('Jira offsets without a colon, ServiceNow UTC times without a zone', () => {
    expect(rfc3339('2026-05-01T10:00:00.000+0000')).toBe('2026-05-01T10:00:00.000Z');
    expect(rfc3339('2026-05-01T10:00:00.000-0500')).toBe('2026-05-01T15:00:00.000Z');
    expect(rfc3339('2026-05-01T12:30:00.000+0230')).toBe('2026-05-01T10:00:00.000Z');
    expect(servicenowTime('2026-05-01 10:00:00')).toBe('2026-05-01T10:00:00.000Z');
    expect(servicenowTime('05/01/2026 10:00:00')).toBeUndefined();
  });
});

describe('cdevents: the specification\'s own examples against its schemas', () => {
  it('accepts the conformance examples of the mapped types', () => {
    const deployed = mapCdevents(conformance('service_deployed'), cdevents);
    expect(deployed).toMatchObject({ kind: 'deployment', deployment: { release: { model_id: 'mySubject123', model_version: 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427', team: 'ranking', tier: 1 } } });
    expect(mapCdevents(conformance('ticket_closed'), cdevents)).toMatchObject({ kind: 'unmappable', reason: expect.stringMatching(/ticket ticket-123 has neither customData.team/) });
    expect(mapCdevents(conformance('pipelinerun_finished'), cdevents)).toMatchObject({ kind: 'ignored' });
  });
  it('names the first schema error, in a structured CloudEvent too', () => {
    const broken = conformance('service_deployed');
    delete broken.subject.content.artifactId;
    expect(mapCdevents(broken, cdevents)).toEqual({ kind: 'bad_request', reason: "dev.cdevents.service.deployed.0.2.0 does not match its CDEvents 0.4.1 schema: /subject/content must have required property 'artifactId'" });
    const cloudEvent = { specversion: '1.0', id: 'x', source: '/tekton', type: 'dev.cdevents.service.deployed.0.2.0', data: { ...conformance('service_deployed'), extra: 1 } };
    expect(mapCdevents(cloudEvent, cdevents)).toMatchObject({ kind: 'bad_request', reason: expect.stringMatching(/must NOT have additional properties \(extra\)$/) });
    expect(mapCdevents({ context: { type: 'com.example.deployed' } }, cdevents)).toMatchObject({ kind: 'bad_request', reason: expect.stringMatching(/not a CDEvent/) });
  });
  it('reads versions from package URLs', () => {
    expect(artifactVersion('pkg:generic/ranker@1.4.0?arch=x86')).toBe('1.4.0');
    expect(artifactVersion('pkg:oci/ranker?digest=sha256:abc')).toBe('sha256:abc');
    expect(artifactVersion('ranker-build-17')).toBe('ranker-build-17');
  });
});

describe('servicenow keyset paging', () => {
  const page = (...times: string[]) => ({ result: times.map((time) => ({ sys_updated_on: { value: time, display_value: time } })) });
  it('moves the cursor to the last time of a page and skips what was read at that time', () => {
    const first = nextPage({ cursor: '1970-01-01 00:00:00', offset: 0 }, page('2026-05-01 10:00:00', '2026-05-01 10:05:00', '2026-05-01 10:05:00'));
    expect(first).toEqual({ cursor: '2026-05-01 10:05:00', offset: 2 });
    // A whole page at the cursor's second: the offset grows.
    expect(nextPage(first, page(...Array(SERVICENOW_PAGE_SIZE).fill('2026-05-01 10:05:00')))).toEqual({ cursor: '2026-05-01 10:05:00', offset: 2 + SERVICENOW_PAGE_SIZE });
    expect(nextPage(first, page())).toEqual(first);
  });
});

describe('the README', () => {
  it('shows the Datadog payload template ready to paste', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Datadog'));
    expect(JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!)).toEqual(DATADOG_PAYLOAD_TEMPLATE);
  });
});
