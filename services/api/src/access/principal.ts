import type { Access, ApiRole, OidcConfig } from '@kpi/config';
import { EVERY_TEAM } from '@kpi/config';
import type { Principal as PrincipalBody } from '@kpi/api-contract';

/** Who made a request and what it may do (SPEC 10). */
export type Principal = PrincipalBody;

export const ROLE_RANK: Record<ApiRole, number> = { read: 1, ingest: 2, admin: 3 };

/** Whether the principal reads `team` (`all`: the organisation, which only an unscoped principal reads). */
export const readsTeam = (principal: Principal, team: string) => principal.teams === null || (team !== 'all' && principal.teams.includes(team));

/** The teams a list is cut to: the principal's, narrowed to `asked` (undefined: every team). */
export function listedTeams(principal: Principal | undefined, asked: string | undefined): readonly string[] | undefined {
  if (asked !== undefined && asked !== 'all') return [asked];
  return principal?.teams ?? undefined;
}

/** The groups a claim holds: an array of strings, or one string. */
function groupsOf(claims: Record<string, unknown>, claim: string): string[] {
  const value = claims[claim];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((group): group is string => typeof group === 'string') : [];
}

/**
 * Role and teams from the groups claim through OIDC_ROLE_MAP (the highest role any group gives,
 * `*` for everyone) and OIDC_TEAM_MAP (every team mapped; a group mapped to `*` reads every team;
 * an empty map: everyone does). No role: undefined, the principal may not use the API.
 */
export function accessFromClaims(claims: Record<string, unknown>, oidc: Pick<OidcConfig, 'groupsClaim' | 'roleMap' | 'teamMap'>): Access | undefined {
  const groups = groupsOf(claims, oidc.groupsClaim);
  const roles = [oidc.roleMap.get('*'), ...groups.map((group) => oidc.roleMap.get(group))].filter((role): role is ApiRole => role !== undefined);
  if (roles.length === 0) return undefined;
  const role = roles.reduce((best, role) => (ROLE_RANK[role] > ROLE_RANK[best] ? role : best));
  if (oidc.teamMap.size === 0) return { role, teams: undefined };
  const teams = groups.map((group) => oidc.teamMap.get(group)).filter((team): team is string => team !== undefined);
  return { role, teams: teams.includes(EVERY_TEAM) ? undefined : [...new Set(teams)].sort() };
}

/** A person or client of the OpenID provider: named by its subject in the audit log. */
export function oidcPrincipal(claims: Record<string, unknown>, access: Access, via: 'bearer' | 'session'): Principal {
  const subject = String(claims.sub);
  const display = [claims.name, claims.email, claims.preferred_username, claims.client_id].find((value): value is string => typeof value === 'string' && value.length > 0) ?? subject;
  return { name: `oidc:${subject}`, display, role: access.role, teams: access.teams ?? null, via };
}
