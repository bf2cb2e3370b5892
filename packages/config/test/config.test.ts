import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.ts';

describe('loadConfig', () => {
  it('applies defaults for a bare environment', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toBeUndefined();
    expect(config.kafka.localPort).toBe(9092);
    expect(config.http.port).toBe(8080);
    expect(config.dataDir).toBe('./.data');
    expect(config.kafka.topics).toEqual({ releases: 'ml.releases', incidents: 'ml.incidents', experiments: 'ml.experiments', signals: 'ml.signals', dlq: 'ml.dlq' });
    expect(config.roles).toEqual(['ingest', 'worker', 'api']);
    expect(config.demo).toBe(true);
  });

  it('parses brokers, tokens, roles and booleans', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'k1:9092, k2:9093', KPI_API_TOKENS: 'abc:read,x:y:admin', KPI_ROLES: 'api,worker', KPI_DEMO: '0', PORT: '9000' });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect([...config.apiTokens!]).toEqual([['abc', { role: 'read', teams: undefined }], ['x:y', { role: 'admin', teams: undefined }]]);
    expect(config.roles).toEqual(['api', 'worker']);
    expect(config.demo).toBe(false);
    expect(config.http.port).toBe(9000);
  });

  it.each([
    ['KAFKA_BROKERS', 'localhost'],
    ['KAFKA_BROKERS', 'a:99999'],
    ['CLICKHOUSE_URL', 'clickhouse:8123'],
    ['CLICKHOUSE_URL', 'ftp://x'],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'http://redis'],
    ['KPI_API_TOKENS', 'abc:superuser'],
    ['KPI_ROLES', 'api,cron'],
    ['KPI_DEMO', 'maybe'],
    ['KPI_API_TOKENS', 'abc:read:Not A Team'],
    ['KPI_API_TOKENS', 'abc:read:all'],
    ['OIDC_ISSUER', 'http://login.example.com'],
    ['OIDC_ISSUER', 'login.example.com'],
    ['OIDC_CLIENT_ID', 'kpi-dashboard'],
    ['PUBLIC_URL', 'kpi.example.com'],
  ])('rejects %s=%s with a one-line message naming it', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`${name}=`);
    expect(message).not.toContain('\n');
  });

  it('parses team scopes of static tokens and the OpenID provider settings', () => {
    const config = loadConfig({
      KPI_API_TOKENS: 'lead:read:ranking|search,x:y:admin:ranking',
      OIDC_ISSUER: 'http://127.0.0.1:4000/oidc',
      OIDC_CLIENT_ID: 'kpi-dashboard',
      OIDC_ROLE_MAP: 'kpi-admins=admin, *=read',
      OIDC_TEAM_MAP: 'ml-ranking=ranking,ml-search=search',
      PUBLIC_URL: 'https://kpi.example.com/',
    });
    expect([...config.apiTokens!]).toEqual([['lead', { role: 'read', teams: ['ranking', 'search'] }], ['x:y', { role: 'admin', teams: ['ranking'] }]]);
    expect(config.oidc).toMatchObject({ issuer: 'http://127.0.0.1:4000/oidc', clientId: 'kpi-dashboard', clientSecret: undefined, audience: 'kpi-dashboard', groupsClaim: 'groups' });
    expect([...config.oidc!.roleMap]).toEqual([['kpi-admins', 'admin'], ['*', 'read']]);
    expect([...config.oidc!.teamMap]).toEqual([['ml-ranking', 'ranking'], ['ml-search', 'search']]);
    expect(config.publicUrl).toBe('https://kpi.example.com');
    // Notification links point where people sign in, unless told otherwise.
    expect(config.alerts.externalUrl).toBe('https://kpi.example.com');
    expect(loadConfig({}).oidc).toBeUndefined();
  });

  it.each([
    [{ OIDC_ISSUER: 'https://login.example.com' }, 'OIDC_CLIENT_ID=""'],
    [{ OIDC_ISSUER: 'https://login.example.com', OIDC_CLIENT_ID: 'kpi', OIDC_ROLE_MAP: 'kpi-admins=root' }, 'OIDC_ROLE_MAP='],
    [{ OIDC_ISSUER: 'https://login.example.com', OIDC_CLIENT_ID: 'kpi', OIDC_TEAM_MAP: 'ml-ranking' }, 'OIDC_TEAM_MAP='],
    [{ OIDC_AUDIENCE: 'kpi-api' }, 'OIDC_AUDIENCE='],
  ])('refuses OpenID settings that do not fit together, naming the variable', (env, named) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(named);
  });

  it('reads the targets and alert rules files once, into the configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpi-config-files-'));
    const targets = join(dir, 'targets.yaml');
    const rules = join(dir, 'rules.json');
    writeFileSync(targets, '- { team: ranking, kpi: time_to_mitigate_hours, op: "<=", value: 48 }\n');
    writeFileSync(rules, '[{"name": "a", "kpi": "sev0_incidents"}]');
    const config = loadConfig({ KPI_TARGETS_FILE: targets, ALERT_RULES_FILE: rules });
    expect(config.targetsFile).toEqual({ variable: 'KPI_TARGETS_FILE', path: targets, document: [{ team: 'ranking', kpi: 'time_to_mitigate_hours', op: '<=', value: 48 }] });
    expect(config.alerts.rulesFile).toEqual({ variable: 'ALERT_RULES_FILE', path: rules, document: [{ name: 'a', kpi: 'sev0_incidents' }] });
    // What the roles use is what was read at start-up, whatever the file says later.
    writeFileSync(targets, 'garbage: [');
    expect(config.targetsFile!.document).toEqual([{ team: 'ranking', kpi: 'time_to_mitigate_hours', op: '<=', value: 48 }]);
    // An empty file: no overrides.
    writeFileSync(join(dir, 'empty.yaml'), '');
    expect(loadConfig({ KPI_TARGETS_FILE: join(dir, 'empty.yaml') }).targetsFile!.document).toBeNull();
  });

  it.each([
    ['KPI_TARGETS_FILE', 'missing.yaml', 'no such file'],
    ['ALERT_RULES_FILE', 'broken.yaml', 'not YAML or JSON'],
  ])('refuses a %s it cannot read or decode, naming it on one line', (name, file, problem) => {
    const dir = mkdtempSync(join(tmpdir(), 'kpi-config-files-'));
    writeFileSync(join(dir, 'broken.yaml'), 'rules: [\n  - {');
    const path = join(dir, file);
    let error: unknown;
    try {
      loadConfig({ [name]: path });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${name}=${JSON.stringify(path)}: ${problem}`);
    expect((error as Error).message).not.toContain('\n');
  });
});
