import { describe, expect, it } from 'vitest';
import { loadConfig } from '@kpi/config';
import { accessFromClaims, listedTeams, oidcPrincipal, readsTeam } from '../src/access/principal.ts';
import { staticTokens, tokenName } from '../src/access/tokens.ts';

const oidc = loadConfig({
  OIDC_ISSUER: 'https://login.example.com',
  OIDC_CLIENT_ID: 'kpi',
  OIDC_ROLE_MAP: 'kpi-admins=admin,kpi-ingest=ingest,*=read',
  OIDC_TEAM_MAP: 'ml-ranking=ranking,ml-search=search,kpi-leads=*',
}).oidc!;

describe('role and teams from the groups claim', () => {
  it('gives the highest role any group maps to, * to everyone, and the teams of the team groups', () => {
    expect(accessFromClaims({ groups: ['ml-search', 'kpi-admins', 'ml-ranking', 'ml-search'] }, oidc)).toEqual({ role: 'admin', teams: ['ranking', 'search'] });
    expect(accessFromClaims({ groups: 'ml-ranking' }, oidc)).toEqual({ role: 'read', teams: ['ranking'] });
    // A group mapped to * reads every team and the organisation; no team group reads none.
    expect(accessFromClaims({ groups: ['kpi-leads', 'ml-ranking'] }, oidc)).toEqual({ role: 'read', teams: undefined });
    expect(accessFromClaims({ groups: ['someone-else'] }, oidc)).toEqual({ role: 'read', teams: [] });
    expect(accessFromClaims({}, oidc)).toEqual({ role: 'read', teams: [] });
  });

  it('reads another claim when told, gives no role without a match, and every team without a team map', () => {
    const strict = { ...oidc, groupsClaim: 'roles', roleMap: new Map([['kpi-admins', 'admin' as const]]), teamMap: new Map<string, string>() };
    expect(accessFromClaims({ groups: ['kpi-admins'] }, strict)).toBeUndefined();
    expect(accessFromClaims({ roles: ['kpi-admins', 7] }, strict)).toEqual({ role: 'admin', teams: undefined });
  });

  it('names a person by subject and shows a readable name', () => {
    expect(oidcPrincipal({ sub: '00u1', email: 'ada@example.com' }, { role: 'read', teams: ['ranking'] }, 'session')).toEqual({ name: 'oidc:00u1', display: 'ada@example.com', role: 'read', teams: ['ranking'], via: 'session' });
  });
});

describe('team scopes', () => {
  const scoped = { name: 'x', display: 'x', role: 'read' as const, teams: ['ranking'], via: 'token' as const };
  const everyone = { ...scoped, teams: null };
  it('read only their teams, never the organisation; lists are cut to them', () => {
    expect(readsTeam(scoped, 'ranking')).toBe(true);
    expect(readsTeam(scoped, 'search')).toBe(false);
    expect(readsTeam(scoped, 'all')).toBe(false);
    expect(readsTeam(everyone, 'all')).toBe(true);
    expect(listedTeams(scoped, undefined)).toEqual(['ranking']);
    expect(listedTeams(everyone, undefined)).toBeUndefined();
    expect(listedTeams(everyone, 'all')).toBeUndefined();
    expect(listedTeams(everyone, 'search')).toEqual(['search']);
  });
});

describe('static tokens', () => {
  it('are found with their scopes and named by a fingerprint, never by the token', () => {
    const find = staticTokens(loadConfig({ KPI_API_TOKENS: 'secret-one:admin,secret-two:read:ranking|search' }).apiTokens!);
    expect(find('secret-two')).toEqual({ name: tokenName('secret-two'), display: tokenName('secret-two'), role: 'read', teams: ['ranking', 'search'], via: 'token' });
    expect(find('secret-one')?.teams).toBeNull();
    expect(find('secret-on')).toBeUndefined();
    expect(tokenName('secret-one')).toMatch(/^token:[0-9a-f]{12}$/);
    expect(tokenName('secret-one')).not.toContain('secret');
  });
});
