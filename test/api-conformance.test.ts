import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CUSTOM_KPI, demoHistory } from '@kpi/demo';
import { countEvents, eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { connectorsFile, deliver } from './support/webhooks.ts';

// Schemathesis (PyPI; ./run test installs it into a venv) against the API of a real pipeline holding
// the demo organisation, as an outside client sees it: every check (server errors, status codes,
// content types, response schemas, headers, valid data accepted and invalid data refused, missing
// auth, undeclared methods, use after delete, links) in every phase (examples, coverage, fuzzing,
// stateful sequences), with 200 examples per operation. The data set is this test's own, so the
// DELETEs, PUTs and POSTs it sends change nothing else. Configuration and the documented
// exceptions: test/schemathesis/schemathesis.toml. The connectors are configured, so what it posts
// to /v1/webhooks/<connector> meets the signature checks (401), and one authenticated delivery is
// stored for the archive's operations to read and replay.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'schemathesis');
const ST = join(process.env.KPI_TEST_SCHEMATHESIS_VENV ?? join(homedir(), '.cache', 'kpi-test', 'schemathesis-4.32.5-venv'), 'bin', 'st');
/** Demo teams loaded: three of the six keep the run short and every endpoint meaningful. */
const DEMO_TEAMS = 3;
/** Every connector but GrowthBook (whose results the workers would pull from a server that is not there); ServiceNow's polls fail, and its state says so. */
const CONNECTORS = `
github: {secret: github-secret}
mlflow: {secret: mlflow-secret, tracking_uri: "http://127.0.0.1:9"}
argocd: {token: argocd-token}
pagerduty: {secret: pagerduty-secret}
alertmanager: {token: alertmanager-token, default_team: ml-platform}
jira: {secret: jira-secret}
datadog: {token: datadog-token}
servicenow: {instance_url: "http://127.0.0.1:9", user: kpi-reader, password: servicenow-password, poll_interval: 1h}
cdevents: {token: cdevents-token}
openlineage: {token: openlineage-token, datasets: {"s3://lake/clicks": {team: ranking, schedule: "0 6 * * *"}}}
great_expectations: {token: great-expectations-token}
evidently: {token: evidently-token}
databricks: {secret: databricks-secret, host: "http://127.0.0.1:9", token: databricks-token}
`;

let pipeline: TestPipeline;
let origin: string;

beforeAll(async () => {
  pipeline = await startPipeline({ env: { REPORT_CHROMIUM: '/nonexistent/chromium', KPI_DEMO: '0', KPI_CONNECTORS_FILE: connectorsFile(CONNECTORS) } });
  // The demo organisation's own KPI first, as the start command defines it: ingestion validates its custom events against it.
  await pipeline.runtime.catalog.put(DEMO_CUSTOM_KPI);
  const events = demoHistory(42, Date.now(), DEMO_TEAMS);
  await pipeline.produce(events);
  await eventually(async () => ((await countEvents(pipeline.runtime)) === events.length ? true : undefined), 300_000, `the ${events.length} demo events`);
  await pipeline.settle();
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const seeded = await deliver(pipeline, 'alertmanager', JSON.stringify({ version: '4', status: 'firing', receiver: 'kpi', alerts: [{ status: 'firing', labels: { alertname: 'PredictionDrift', team: 'ml-platform' }, fingerprint: 'c0ffee', startsAt }] }), {
    authorization: 'Bearer alertmanager-token',
  });
  expect(seeded.status, JSON.stringify(seeded.body)).toBe(202);
  // What schemathesis posts to /v1/events is accepted (202) and produced to Kafka, but not ingested:
  // generated times span years 0000-9999, and an event centuries old recomputes every period since.
  await pipeline.stopRole('ingest');
  origin = await pipeline.api.listen({ host: '127.0.0.1', port: 0 });
}, 600_000);
afterAll(() => pipeline?.stop());

function schemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(join(ARTIFACTS, 'run.txt'));
  // Its example database and reports go to a scratch directory, not the checkout.
  const cwd = mkdtempSync(join(tmpdir(), 'kpi-schemathesis-'));
  return new Promise((resolve, reject) => {
    const child = spawn(ST, args, { cwd, env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_HOOKS: '' } });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      log.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new Error(`${ST}: ${error.message} (./run test installs schemathesis into a venv)`)));
    child.on('close', (code) => {
      log.end();
      resolve({ code, output });
    });
  });
}

describe('the API against its OpenAPI document (schemathesis)', () => {
  it('passes every check of every phase, 200 examples per operation', { timeout: 1_200_000 }, async () => {
    const started = Date.now();
    const args = [
      '--config-file',
      join(ROOT, 'test', 'schemathesis', 'schemathesis.toml'),
      'run',
      `${origin}/openapi.json`,
      '--header',
      `Authorization: Bearer ${TOKENS.admin}`,
      '--report',
      'junit',
      '--report-junit-path',
      join(ARTIFACTS, 'junit.xml'),
    ];
    let { code, output } = await schemathesis(args);
    // CPython 3.11 before 3.11.5 (Debian's is 3.11.2) can raise "SystemError: AST constructor recursion
    // depth mismatch" while Hypothesis, deep in a generation, parses source to describe a strategy
    // (gh-106905): an error of the interpreter, in generation, reported as an error and not as a check
    // that failed. Only that error gets the run again (twice at most); any failed check fails the test.
    for (let retry = 1; retry <= 2 && code !== 0 && /SystemError: AST constructor recursion depth mismatch/.test(output) && !/❌/.test(output); retry++) {
      console.log(`schemathesis: the interpreter error of CPython 3.11 (gh-106905) in generation; running again (${retry} of 2)`);
      ({ code, output } = await schemathesis(args));
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    const summary = output.slice(output.lastIndexOf('SUMMARY'));
    console.log(`schemathesis: ${seconds} s\n${summary}`);
    expect(code, output.slice(-20_000)).toBe(0);
    expect(output).toMatch(/Stateful/);
    expect(output).not.toMatch(/⏭\s+(Coverage|Fuzzing|Stateful)/);
  });
});
