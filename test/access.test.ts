import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { makeEvent, sampleData, type AnyEvent, type EventType } from '@kpi/events';
import { CSRF_HEADER, SESSION_COOKIE } from '@kpi/api-contract';
import { buildDashboard, launchChromium, type BrowserContext, type Page } from '../dashboards/web/test-support.ts';
import { Answered, eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { startTestProvider, type TestProvider } from './support/oidc-provider.ts';
import { connectorsFile, deliver } from './support/webhooks.ts';

// Sign-in and access (SPEC 10) against a real, OpenID Certified provider (npm oidc-provider) in this
// process: the dashboard's code flow in Chromium, the provider's access tokens as bearer tokens, key
// rotation; the audit log of admin changes; and a walk of every read route of the OpenAPI document
// as team-scoped principals, looking for any other team's data in the answers.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const [OWN, OTHER, THIRD] = ['sec-alpha', 'sec-beta', 'sec-gamma'] as const;
const AUDIENCE = 'http://kpi-api.test';
const DASHBOARD = { clientId: 'kpi-dashboard', clientSecret: 'dashboard-secret' };
/** Static tokens with team scopes, besides the pipeline's unscoped read, ingest and admin ones. */
const SCOPED = { reader: 'alpha-reader-token', admin: 'alpha-admin-token', twoTeams: 'alpha-beta-reader-token' } as const;
/** Events of every type ten days ago: in the current month, quarter and year, or the one before. */
const BASE = Date.now() - 10 * 86_400_000;

let provider: TestProvider;
let pipeline: TestPipeline;
let publicUrl: string;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * One event of every type for `team`, from the contract's samples: every id and model named after the
 * team (`sec-beta-ranker`), so any trace of another team's data in an answer carries its name.
 */
function teamEvents(team: string): AnyEvent[] {
  const rename = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => rename(item, key));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, rename(inner, name)]));
    if (typeof value !== 'string') return value;
    if (key === 'team' || key === 'owner_team') return team;
    if (key.endsWith('_id') || key === 'dataset') return `${team}-${value}`;
    return /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(BASE).toISOString() : value;
  };
  const types = Object.keys(sampleData) as EventType[];
  const events = types.map((type, index) => makeEvent(type, rename(sampleData[type], 'data') as never, { id: `${team}-${type}`, time: new Date(BASE + index * 60_000).toISOString() }));
  // An incident still open and an alert awaiting triage.
  events.push(makeEvent('incident.opened', rename({ ...sampleData['incident.opened'], incident_id: 'inc-open' }, 'data') as never, { id: `${team}-open`, time: new Date(BASE).toISOString() }));
  events.push(makeEvent('alert.fired', rename({ ...sampleData['alert.fired'], alert_id: 'alert-open' }, 'data') as never, { id: `${team}-alert-open`, time: new Date(BASE).toISOString() }));
  return events;
}

type Credentials = { token?: string; cookie?: string; csrf?: string | null };
async function call<M extends 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', const Url extends string>(method: M, url: Url, credentials: Credentials = {}, payload?: unknown) {
  const headers: Record<string, string> = {};
  if (credentials.token) headers.authorization = `Bearer ${credentials.token}`;
  if (credentials.cookie) headers.cookie = `${SESSION_COOKIE}=${credentials.cookie}`;
  if (credentials.csrf) headers[CSRF_HEADER] = credentials.csrf;
  return Answered.of<M, Url>(await pipeline.api.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as never }) }));
}
const admin = { token: TOKENS.admin };

/** Signs `login` in on the dashboard through the provider's own login and consent pages. */
async function signInInBrowser(login: string) {
  await page.goto(`${publicUrl}/`);
  await page.locator('#sign-in-oidc').click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.locator('button[type=submit]').click();
  // The provider asks for consent to share the profile with the dashboard.
  await page.locator('button[type=submit]', { hasText: 'Continue' }).click();
  await page.locator('#who').waitFor();
}

const sessionCookie = async () => (await browser.context.cookies(publicUrl)).find((cookie) => cookie.name === SESSION_COOKIE);

beforeAll(async () => {
  await buildDashboard();
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  provider = await startTestProvider({
    audience: AUDIENCE,
    dashboard: { ...DASHBOARD, publicUrl },
    accounts: {
      ada: { name: 'Ada Lovelace', email: 'ada@example.com', groups: ['kpi-readers', 'ml-alpha'] },
      grace: { name: 'Grace Hopper', email: 'grace@example.com', groups: ['kpi-admins', 'kpi-leads'] },
      brief: { name: 'Brief Visitor', email: 'brief@example.com', groups: ['kpi-readers', 'ml-alpha'], accessTokenSeconds: 2 },
    },
    machines: { 'ci-bot': ['kpi-ingest', 'ml-alpha'], 'ops-bot': ['kpi-admins', 'kpi-leads'] },
  });
  pipeline = await startPipeline({
    env: {
      KPI_API_TOKENS: `${TOKENS.read}:read,${TOKENS.ingest}:ingest,${TOKENS.admin}:admin,${SCOPED.reader}:read:${OWN},${SCOPED.admin}:admin:${OWN},${SCOPED.twoTeams}:read:${OWN}|${OTHER}`,
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: DASHBOARD.clientId,
      OIDC_CLIENT_SECRET: DASHBOARD.clientSecret,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_ROLE_MAP: 'kpi-admins=admin,kpi-ingest=ingest,kpi-readers=read',
      OIDC_TEAM_MAP: `ml-alpha=${OWN},ml-beta=${OTHER},kpi-leads=*`,
      OIDC_JWKS_MIN_INTERVAL_MS: '1500',
      PUBLIC_URL: publicUrl,
      KPI_CONNECTORS_FILE: connectorsFile(`alertmanager: {token: am-token, default_team: ${OWN}}`),
      REPORT_CHROMIUM: '/nonexistent/chromium',
    },
  });
  await pipeline.api.listen({ host: '127.0.0.1', port });
  const events = [OWN, OTHER, THIRD].flatMap(teamEvents);
  await pipeline.produce(events);
  await eventually(async () => ((await call('GET', '/v1/teams', admin)).body.teams?.length === 3 ? true : undefined), 60_000, 'three teams');
  await pipeline.settle();
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error.message));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
  await provider?.close();
});

describe('sign-in with the OpenID provider (dashboard)', () => {
  it('signs a person in with the code flow in Chromium: redirect, login, consent, callback, the dashboard with the person and only their teams', async () => {
    await signInInBrowser('ada');
    expect(await page.locator('#who').textContent()).toBe(`Ada Lovelace · read · ${OWN}`);
    // The team picker offers the person's team only, not the organisation; the scorecard opened on it.
    // (The picker fills once the dashboard has the teams: it may still be empty when the name shows.)
    await page.locator(`#team option[value="${OWN}"]`).waitFor({ state: 'attached', timeout: 15_000 });
    expect(await page.locator('#team option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value))).toEqual([OWN]);
    expect(new URL(page.url()).searchParams.get('team')).toBe(OWN);
    await page.locator('#view-title').waitFor();
    expect(await page.locator('#view-title').textContent()).toContain(OWN);
    const cookie = await sessionCookie();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });
    const session = await call('GET', '/auth/session', { cookie: cookie!.value });
    expect(session.body.principal).toEqual({ name: 'oidc:ada', display: 'Ada Lovelace', role: 'read', teams: [OWN], via: 'session' });
  });

  it('refuses a request made with the session cookie that changes something without the anti-CSRF header (403)', async () => {
    const cookie = (await sessionCookie())!.value;
    const { csrf_token: csrf } = (await call('GET', '/auth/session', { cookie })).body;
    // From the dashboard's own page, as a script would: the cookie goes with it, the header does not.
    const withoutHeader = await page.evaluate(async () => {
      const response = await fetch('/v1/silences', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ matchers: [{ name: 'team', value: 'sec-alpha' }], duration: '1h' }) });
      return { status: response.status, body: await response.json() };
    });
    expect(withoutHeader.status).toBe(403);
    expect(withoutHeader.body.message).toContain(CSRF_HEADER);
    expect((await call('POST', '/auth/logout', { cookie })).status).toBe(403);
    expect((await call('POST', '/auth/logout', { cookie, csrf: 'not-the-token' })).status).toBe(403);
    // With the header, the role decides: a reader may not create silences.
    const withHeader = await call('POST', '/v1/silences', { cookie, csrf }, { matchers: [{ name: 'team', value: OWN }], duration: '1h' });
    expect(withHeader.status).toBe(403);
    expect(withHeader.bodyAt(403).message).toContain('admin role');
    // The session is still valid: nothing above ended it.
    expect((await call('GET', '/v1/teams', { cookie })).status).toBe(200);
  });

  it('refuses a tampered state at the callback; the sign-in this browser started still completes', async () => {
    await browser.context.clearCookies();
    await page.goto(`${publicUrl}/`);
    // The provider's redirect back to the callback is held (as an attacker would hold it) and its URL
    // kept; the provider's own redirects are followed here, since a redirect is not routed again.
    let callback: string | undefined;
    await page.route(`${provider.issuer}/**`, async (route) => {
      let response = await route.fetch({ maxRedirects: 0 });
      let location = response.headers().location;
      while (location && !location.startsWith(publicUrl)) {
        response = await page.request.get(new URL(location, provider.issuer).href, { maxRedirects: 0 });
        location = response.headers().location;
      }
      if (!location?.startsWith(`${publicUrl}/auth/callback`)) return route.fulfill({ response });
      callback = location;
      return route.fulfill({ status: 200, contentType: 'text/plain', body: 'held back by the test' });
    });
    await page.locator('#sign-in-oidc').click();
    await page.locator('input[name=login]').fill('ada');
    await page.locator('input[name=password]').fill('any password');
    await page.locator('button[type=submit]').click();
    await page.locator('button[type=submit]', { hasText: 'Continue' }).click();
    await eventually(async () => callback, 10_000, 'the provider redirecting to the callback');
    await page.unroute(`${provider.issuer}/**`);
    const genuine = new URL(callback!);
    const tampered = new URL(genuine);
    tampered.searchParams.set('state', `${genuine.searchParams.get('state')!.slice(0, -2)}xx`);
    const refused = await page.goto(tampered.href);
    expect(refused!.status()).toBe(400);
    expect(await refused!.text()).toMatch(/state/);
    expect(await sessionCookie()).toBeUndefined();
    await page.goto(genuine.href);
    await page.locator('#who').waitFor();
    expect(await page.locator('#who').textContent()).toContain('Ada Lovelace');
    // The code was used once: the same callback again is refused.
    expect((await call('GET', `/auth/callback${genuine.search}`)).status).toBe(400);
  });
});

describe("the provider's access tokens as bearer tokens", () => {
  /** A token signed with `key` (default: the provider's current key) with these claims. */
  async function mint(claims: Record<string, unknown>, key: JWK = provider.signingKey()) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'minted', groups: ['kpi-readers', 'ml-alpha'], ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid!, typ: 'at+jwt' })
      .setIssuer(String(claims.iss ?? provider.issuer))
      .setAudience(String(claims.aud ?? AUDIENCE))
      .setIssuedAt(now)
      .setExpirationTime(Number(claims.exp ?? now + 300))
      .sign(await importJWK(key, 'RS256'));
  }
  const foreignKey = async (kid?: string) => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    return { ...(await exportJWK(privateKey)), kid: kid ?? `foreign-${Math.random().toString(36).slice(2)}` };
  };

  it("accepts the provider's own access token, with role and teams from its groups claim", async () => {
    const token = await provider.clientToken('ci-bot');
    const session = await call('GET', '/auth/session', { token });
    expect(session.body.principal).toEqual({ name: 'oidc:ci-bot', display: 'ci-bot', role: 'ingest', teams: [OWN], via: 'bearer' });
    expect((await call('GET', '/v1/teams', { token })).body.teams.map((team: { team: string }) => team.team)).toEqual([OWN]);
    expect((await call('GET', '/v1/audit', { token })).status).toBe(403);
    expect((await call('GET', '/v1/teams', { token: await mint({}) })).status).toBe(200);
  });

  it('refuses (401) an expired token, a token not yet valid, one signed by another key, one for another audience or issuer', async () => {
    const now = Math.floor(Date.now() / 1000);
    const refused = {
      expired: await mint({ exp: now - 60 }),
      'not yet valid': await new SignJWT({ sub: 'minted', groups: ['kpi-readers'] })
        .setProtectedHeader({ alg: 'RS256', kid: provider.signingKey().kid! })
        .setIssuer(provider.issuer)
        .setAudience(AUDIENCE)
        .setNotBefore(now + 600)
        .setExpirationTime(now + 900)
        .sign(await importJWK(provider.signingKey(), 'RS256')),
      'another key, the same kid': await mint({}, await foreignKey(provider.signingKey().kid)),
      'another key, its own kid': await mint({}, await foreignKey()),
      'another audience': await mint({ aud: 'http://another-api.test' }),
      'another issuer': await mint({ iss: 'http://127.0.0.1:1/another' }),
    };
    for (const [what, token] of Object.entries(refused)) {
      const answer = await call('GET', '/v1/teams', { token });
      expect(answer.status, what).toBe(401);
      expect(answer.bodyAt(401).error, what).toBe('unauthorized');
      expect((await call('GET', '/auth/session', { token })).body.principal, what).toBeNull();
    }
  });

  it("accepts a token signed with the provider's new key after a rotation, fetching the keys again at most once per interval", async () => {
    // The keys were fetched for the tokens above; the interval (1.5 s) has passed by the rotation.
    await sleep(1_600);
    await provider.rotateKeys();
    const before = provider.jwksRequests();
    const rotated = await provider.clientToken('ci-bot');
    expect((await call('GET', '/v1/teams', { token: rotated })).status).toBe(200);
    expect(provider.jwksRequests()).toBe(before + 1);
    // Unknown kids in a burst: refused, and the keys are fetched again at most once per interval
    // (a burst on a busy machine may outlast one interval: that allows one more fetch, no more).
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const burstStarted = Date.now();
    for (let i = 0; i < 5; i++) {
      const key = { ...(await exportJWK(privateKey)), kid: `unknown-${i}` };
      expect((await call('GET', '/v1/teams', { token: await mint({}, key) })).status).toBe(401);
    }
    expect(provider.jwksRequests()).toBeLessThanOrEqual(before + 1 + Math.floor((Date.now() - burstStarted) / 1_500));
    expect((await call('GET', '/v1/teams', { token: await mint({}) })).status).toBe(200);
  });
});

describe('the audit log', () => {
  it('records each admin change exactly once, with who, before and after; no route changes or deletes it', async () => {
    const opsBot = { token: await provider.clientToken('ops-bot') };
    const ciBot = { token: await provider.clientToken('ci-bot') };
    const expectStatus = async <Body>(answer: Promise<{ status: number; body: Body }>, status: number) => {
      const { status: got, body } = await answer;
      expect(got, JSON.stringify(body)).toBe(status);
      return body;
    };
    const ttm = 'time_to_mitigate_hours';
    await expectStatus(call('PUT', `/v1/targets/${ttm}/${OTHER}`, admin, { op: '<=', value: 30 }), 200);
    await expectStatus(call('PUT', `/v1/targets/${ttm}/${OTHER}`, admin, { op: '<=', value: 20 }), 200);
    await expectStatus(call('PUT', `/v1/targets/${ttm}/${OWN}`, admin, { op: '<=', value: 40 }), 200);
    await expectStatus(call('DELETE', `/v1/targets/${ttm}/${OWN}`, admin), 204);
    const rule = { name: `${OTHER}-sev0`, kpi: 'sev0_incidents', scope: 'team', team: OTHER, granularity: 'month', severity: 'critical' };
    await expectStatus(call('POST', '/v1/alert-rules', admin, rule), 201);
    // A refused change (the name exists) records nothing.
    await expectStatus(call('POST', '/v1/alert-rules', admin, rule), 409);
    await expectStatus(call('PUT', `/v1/alert-rules/${rule.name}`, admin, { ...rule, severity: 'warning' }), 200);
    await expectStatus(call('POST', '/v1/alert-rules', admin, { ...rule, name: 'short-lived' }), 201);
    await expectStatus(call('DELETE', '/v1/alert-rules/short-lived', admin), 204);
    const silence = await expectStatus(call('POST', '/v1/silences', admin, { matchers: [{ name: 'team', value: OTHER }], duration: '1h', comment: 'maintenance' }), 201);
    const brief = await expectStatus(call('POST', '/v1/silences', admin, { matchers: [{ name: 'team', value: OWN }], duration: '1h' }), 201);
    await expectStatus(call('DELETE', `/v1/silences/${brief.id}`, admin), 204);
    const custom = {
      name: 'Security eval pass rate', unit: 'share', direction: 'higher', description: 'Share of evals that pass', source: 'custom.sec_eval',
      schema: { type: 'object', required: ['team', 'passed'], properties: { team: { type: 'string' }, passed: { type: 'boolean' } } },
      value: { agg: 'share', match: { 'data.passed': true } },
    };
    await expectStatus(call('PUT', '/v1/kpis/sec_eval_pass_rate', admin, custom), 201);
    await expectStatus(call('DELETE', '/v1/kpis/sec_eval_pass_rate', admin), 204);
    await expectStatus(call('POST', `/v1/triage/${OWN}-alert-open`, ciBot, { actionable: true }), 202);
    // A team-scoped principal triages its own teams' alerts only.
    await expectStatus(call('POST', `/v1/triage/${OTHER}-alert-open`, ciBot, { actionable: true }), 403);
    const delivered = await deliver(pipeline, 'alertmanager', JSON.stringify({ version: '4', status: 'firing', receiver: 'kpi', alerts: [{ status: 'firing', labels: { alertname: 'Drift', team: OWN }, fingerprint: 'sec1', startsAt: new Date().toISOString() }] }), { authorization: 'Bearer am-token' });
    expect(delivered.status).toBe(202);
    await expectStatus(call('POST', `/v1/webhooks/deliveries/${delivered.body.delivery}/replay`, admin), 202);
    const quarter = `${new Date().getUTCFullYear()}-Q${Math.floor(new Date().getUTCMonth() / 3) + 1}`;
    for (const team of [OTHER, OWN, undefined]) await expectStatus(call('POST', '/v1/reports', opsBot, { quarter, ...(team ? { team } : {}) }), 202);

    const { entries, next_cursor: next } = await expectStatus(call('GET', '/v1/audit?limit=1000', admin), 200);
    expect(next).toBeNull();
    const adminName = (await call('GET', '/auth/session', admin)).body.principal!.name;
    expect(adminName).toMatch(/^token:[0-9a-f]{12}$/);
    const what = (entry: { action: string; target: string; actor: string }) => `${entry.action} ${entry.target} by ${entry.actor}`;
    expect(entries.map(what).sort()).toEqual(
      [
        `target.set ${ttm}/${OTHER} by ${adminName}`,
        `target.set ${ttm}/${OTHER} by ${adminName}`,
        `target.set ${ttm}/${OWN} by ${adminName}`,
        `target.remove ${ttm}/${OWN} by ${adminName}`,
        `alert_rule.create ${rule.name} by ${adminName}`,
        `alert_rule.replace ${rule.name} by ${adminName}`,
        `alert_rule.create short-lived by ${adminName}`,
        `alert_rule.delete short-lived by ${adminName}`,
        `silence.create ${silence.id} by ${adminName}`,
        `silence.create ${brief.id} by ${adminName}`,
        `silence.expire ${brief.id} by ${adminName}`,
        `kpi.define sec_eval_pass_rate by ${adminName}`,
        `kpi.delete sec_eval_pass_rate by ${adminName}`,
        `triage ${OWN}-alert-open by oidc:ci-bot`,
        `webhook.replay ${delivered.body.delivery} by ${adminName}`,
        `report.request ${quarter}-${OTHER} by oidc:ops-bot`,
        `report.request ${quarter}-${OWN} by oidc:ops-bot`,
        `report.request ${quarter}-all by oidc:ops-bot`,
      ].sort(),
    );
    const [latestSet, firstSet] = entries.filter((entry: { action: string; target: string }) => entry.action === 'target.set' && entry.target === `${ttm}/${OTHER}`);
    expect(firstSet).toMatchObject({ team: OTHER, via: 'token', before: null, after: { kpi: ttm, team: OTHER, op: '<=', value: 30 } });
    expect(latestSet).toMatchObject({ before: { value: 30 }, after: { value: 20 } });
    expect(entries.find((entry: { action: string }) => entry.action === 'target.remove')).toMatchObject({ before: { value: 40 }, after: null });
    expect(entries.find((entry: { action: string }) => entry.action === 'alert_rule.replace')).toMatchObject({ before: { origin: 'api', rule: { severity: 'critical' } }, after: { severity: 'warning' } });
    expect(entries.find((entry: { action: string }) => entry.action === 'silence.expire')).toMatchObject({ before: { id: brief.id }, after: { id: brief.id } });
    expect(entries.find((entry: { action: string }) => entry.action === 'kpi.delete')).toMatchObject({ before: { source: 'custom.sec_eval' }, after: null });
    expect(entries.find((entry: { action: string }) => entry.action === 'triage')).toMatchObject({ team: OWN, via: 'bearer', before: { triaged: false, actionable: null }, after: { triaged: true, actionable: true } });
    expect(entries.find((entry: { action: string }) => entry.action === 'webhook.replay')).toMatchObject({ before: { outcome: 'accepted', attempts: 1 }, after: { outcome: 'accepted', attempts: 2 } });

    // Filters and pages: five at a time, the same entries in the same order.
    expect((await call('GET', '/v1/audit?action=target.set', admin)).body.entries).toHaveLength(3);
    expect((await call('GET', '/v1/audit?actor=oidc:ops-bot', admin)).body.entries).toHaveLength(3);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { entries: { id: string }[]; next_cursor: string | null } = (await call('GET', `/v1/audit?limit=5${cursor ? `&cursor=${cursor}` : ''}`, admin)).body;
      paged.push(...page.entries.map((entry) => entry.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(entries.map((entry: { id: string }) => entry.id));
    expect((await call('GET', '/v1/audit?cursor=bm90LW91cnM', admin)).status).toBe(400);

    // Nothing but GET /v1/audit touches it, for any principal: every other method and path is refused.
    const document = (await call('GET', '/openapi.json')).body;
    const auditOperations = Object.entries(document.paths).flatMap(([path, methods]) => (path.includes('audit') ? Object.keys(methods).map((method) => `${method} ${path}`) : []));
    expect(auditOperations).toEqual(['get /v1/audit']);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      for (const url of ['/v1/audit', `/v1/audit/${entries[0]!.id}`]) expect([404, 405], `${method} ${url}`).toContain((await call(method, url, admin, {})).status);
    }
    expect((await call('GET', '/v1/audit', { token: SCOPED.admin })).status).toBe(403);
    expect((await call('GET', '/v1/audit', { token: TOKENS.read })).status).toBe(403);
    expect((await call('GET', '/v1/audit?limit=1000', admin)).body.entries).toEqual(entries);
  });
});

describe('team scopes, route by route', () => {
  it('finds no other team\'s data in any answer of any read route, for every team-scoped principal', { timeout: 600_000 }, async () => {
    // The reports requested above are generated, so their files can be read (or refused).
    await eventually(async () => {
      const { reports } = (await call('GET', '/v1/reports', admin)).body;
      return reports.length >= 3 && reports.every((report: { status: string }) => report.status === 'ready') ? true : undefined;
    }, 120_000, 'the reports generated');
    const document = (await call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { operationId: string; 'x-team-scope': string; tags: string[]; parameters: { name: string; in: string; required: boolean; schema: { enum?: string[] } }[] }>>;
    };
    const kpis: string[] = (await call('GET', '/v1/kpis', admin)).body.map((kpi: { id: string }) => kpi.id);
    const pathValues: Record<string, Record<string, string[]>> = {
      '/v1/kpis/{id}/values': { id: kpis },
      '/v1/kpis/{id}/breakdown': { id: kpis },
      '/v1/alert-rules/{name}': { name: (await call('GET', '/v1/alert-rules', admin)).body.rules.map((entry: { rule: { name: string } }) => entry.rule.name) },
      '/v1/silences/{id}': { id: (await call('GET', '/v1/silences?state=all', admin)).body.silences.map((entry: { id: string }) => entry.id) },
      '/v1/reports/{id}': { id: (await call('GET', '/v1/reports', admin)).body.reports.map((entry: { id: string }) => entry.id) },
      '/v1/reports/{id}/{format}': { id: (await call('GET', '/v1/reports', admin)).body.reports.map((entry: { id: string }) => entry.id), format: ['html', 'md', 'json'] },
      '/v1/webhooks/deliveries/{id}': { id: (await call('GET', '/v1/webhooks/deliveries', admin)).body.deliveries.map((entry: { id: string }) => entry.id) },
    };
    const month = new Date(BASE);
    const fixedQuery: Record<string, string> = { period_start: `${month.toISOString().slice(0, 8)}01` };

    const browserSession = (await sessionCookie())!.value;
    const principals: { name: string; credentials: Credentials; teams: string[] }[] = [
      { name: `static read token scoped to ${OWN}`, credentials: { token: SCOPED.reader }, teams: [OWN] },
      { name: `static admin token scoped to ${OWN}`, credentials: { token: SCOPED.admin }, teams: [OWN] },
      { name: `static read token scoped to ${OWN} and ${OTHER}`, credentials: { token: SCOPED.twoTeams }, teams: [OWN, OTHER] },
      { name: `the provider's access token of ci-bot (ingest, ${OWN})`, credentials: { token: await provider.clientToken('ci-bot') }, teams: [OWN] },
      { name: `Ada's dashboard session (read, ${OWN})`, credentials: { cookie: browserSession }, teams: [OWN] },
    ];
    const allTeams = [OWN, OTHER, THIRD];
    const probed = new Set<string>();
    const leaks: string[] = [];
    let requests = 0;

    for (const principal of principals) {
      const foreign = allTeams.filter((team) => !principal.teams.includes(team));
      for (const [path, methods] of Object.entries(document.paths)) {
        const operation = methods.get;
        // The sign-in redirects and the process's own health and metrics carry no principal's data.
        if (!operation || operation.tags.includes('health') || operation.operationId.startsWith('signIn')) continue;
        probed.add(operation.operationId);
        const pathParameters = operation.parameters.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name);
        const combinations = pathParameters.reduce<Record<string, string>[]>(
          (all, name) => all.flatMap((partial) => (pathValues[path]?.[name] ?? []).map((value) => ({ ...partial, [name]: value }))),
          [{}],
        );
        const takesTeam = operation.parameters.some((parameter) => parameter.in === 'query' && parameter.name === 'team');
        for (const params of combinations) {
          const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]!));
          const query = new URLSearchParams();
          for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'query' && candidate.name !== 'team')) {
            // The widest answer a list gives (state=all, triaged=all), and what a route requires.
            if (parameter.schema.enum?.includes('all')) query.set(parameter.name, 'all');
            else if (parameter.required) query.set(parameter.name, fixedQuery[parameter.name]!);
          }
          const teamVariants: (string | undefined)[] = takesTeam ? [undefined, ...principal.teams, ...foreign, 'all'] : [undefined];
          for (const team of teamVariants) {
            const variant = new URLSearchParams(query);
            if (team) variant.set('team', team);
            const target = `${url}${variant.size ? `?${variant}` : ''}`;
            const answer = await call('GET', target, principal.credentials);
            requests++;
            const refusal = team !== undefined && !principal.teams.includes(team);
            if (refusal) {
              if (answer.status !== 403) leaks.push(`${principal.name}: GET ${target} answered ${answer.status}, not 403`);
              continue;
            }
            // Refused (403: the organisation's, another team's entity) or absent (404) answers echo only the request.
            if (answer.status === 403 || answer.status === 404) continue;
            if (answer.status !== 200) leaks.push(`${principal.name}: GET ${target} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
            const found = foreign.filter((name) => answer.text.includes(name));
            if (found.length > 0) leaks.push(`${principal.name}: GET ${target} shows ${found.join(', ')}: ${answer.text.slice(Math.max(0, answer.text.indexOf(found[0]!) - 120), answer.text.indexOf(found[0]!) + 80)}`);
            // The organisation as a whole is no team's either.
            if (/"team":"all"|team="all"/.test(answer.text)) leaks.push(`${principal.name}: GET ${target} shows the organisation's data`);
          }
        }
      }
    }
    const figures = { routes_probed: probed.size, requests: requests, principals_tried: principals.length, leaks_found: leaks.length };
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    writeFileSync(join(ROOT, 'test-artifacts', 'sec-figures.json'), `${JSON.stringify({ ...figures, principals: principals.map((principal) => principal.name), routes: [...probed].sort() }, null, 2)}\n`);
    console.log(`SEC figures: ${JSON.stringify(figures)}`);
    expect(leaks).toEqual([]);
    // Every read route of the document that takes credentials was walked.
    const readRoutes = Object.values(document.paths).flatMap((methods) => (methods.get && !methods.get.tags.includes('health') && !methods.get.operationId.startsWith('signIn') ? [methods.get.operationId] : []));
    expect([...probed].sort()).toEqual(readRoutes.sort());
    // The walk saw the principals' own data: it was there to leak beside.
    expect((await call('GET', '/v1/incidents?state=all', { token: SCOPED.reader })).body.incidents.map((incident: { team: string }) => incident.team)).toEqual([OWN, OWN]);
  });
});

describe('sign-out', () => {
  it("ends the session here and the provider's session, and comes back to the sign-in page", async () => {
    const cookie = (await sessionCookie())!.value;
    await page.goto(`${publicUrl}/?view=scorecard`);
    await page.locator('#sign-out').click();
    // The provider asks whether to sign out of it too (while it holds a session of this browser).
    const confirm = page.locator('button[name=logout][value=yes]');
    await page.locator('#sign-in, button[name=logout][value=yes]').first().waitFor();
    if (await confirm.isVisible()) await confirm.click();
    await page.locator('#sign-in').waitFor();
    expect(new URL(page.url()).origin).toBe(publicUrl);
    expect(await sessionCookie()).toBeUndefined();
    expect((await call('GET', '/v1/teams', { cookie })).status).toBe(401);
    expect((await call('GET', '/auth/session', { cookie })).body.principal).toBeNull();
    // The provider's session is over too: signing in asks for the login again.
    await page.locator('#sign-in-oidc').click();
    await page.locator('input[name=login]').waitFor();
  });
});

describe('an admin on the dashboard', () => {
  it('triages through the dashboard (its calls carry the anti-CSRF header) and finds the change in the audit log of the Operations view', async () => {
    await signInInBrowser('grace');
    expect(await page.locator('#who').textContent()).toBe('Grace Hopper · admin');
    await page.goto(`${publicUrl}/?view=ops&team=${THIRD}`);
    await page.locator(`tr[data-alert="${THIRD}-alert-open"] button[data-triage=noise]`).click();
    await page.locator('[data-role=audit] tr[data-audit]').first().waitFor();
    await eventually(async () => ((await page.locator('[data-role=audit] tr[data-audit]').first().textContent())?.includes(`${THIRD}-alert-open`) ? true : undefined), 10_000, 'the triage in the audit log');
    const latest = await page.locator('[data-role=audit] tr[data-audit]').first().textContent();
    expect(latest).toContain('oidc:grace');
    expect(latest).toContain('triage');
    const [entry] = (await call('GET', `/v1/audit?action=triage&target=${THIRD}-alert-open`, admin)).body.entries;
    expect(entry).toMatchObject({ actor: 'oidc:grace', via: 'session', team: THIRD, after: { triaged: true, actionable: false } });
  });
});

describe("the session's lifetime", () => {
  it("is renewed with the provider's refresh token when its access token expires, and ends when the provider's session does", async () => {
    await browser.context.clearCookies();
    await signInInBrowser('brief');
    const cookie = (await sessionCookie())!.value;
    await sleep(2_500);
    // The access token (2 s) has expired: the provider renews the session.
    expect((await call('GET', '/v1/teams', { cookie })).status).toBe(200);
    // The person signs out at the provider (another application's sign-out, say): its session and refresh token end.
    await page.goto(`${provider.issuer}/session/end`);
    await page.locator('button[name=logout][value=yes]').click();
    await page.waitForLoadState();
    await sleep(2_500);
    const ended = await call('GET', '/v1/teams', { cookie });
    expect(ended.status).toBe(401);
    expect(ended.bodyAt(401).message).toContain('session has ended');
  });
});
