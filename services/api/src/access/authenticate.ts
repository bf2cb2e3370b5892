import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import { CSRF_HEADER, SESSION_COOKIE, type RouteContract } from '@kpi/api-contract';
import type { Access } from '@kpi/config';
import type { OpenIdProvider } from './oidc.ts';
import { readsTeam, ROLE_RANK, type Principal } from './principal.ts';
import type { Session, SessionStore } from './sessions.ts';
import { staticTokens } from './tokens.ts';

/** Who a request comes from, and the session it came with (cookie), if any. */
export interface Identified {
  principal: Principal;
  session?: { id: string; session: Session };
}
type Identification = Identified | { refused: string } | undefined;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const sameSecret = (presented: string | undefined, expected: string) => {
  if (!presented) return false;
  const [a, b] = [Buffer.from(presented), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
};

/** The 403 of a principal whose team scopes do not cover what it asked for. */
export function outOfScope(reply: FastifyReply, principal: Principal, what: string) {
  return reply.code(403).send({ error: 'forbidden', message: `${what} is outside this principal's teams (${principal.teams?.join(', ') || 'none'})` });
}

/**
 * Authentication and authorisation of every route from what its contract declares (SPEC 10): a
 * static token or the provider's access token as a bearer token, or the dashboard's session
 * cookie (renewed through the provider when its access token has expired, ended when the
 * provider's session has); the role; the anti-CSRF header with the cookie on requests that change
 * something; and the team scope of routes that name a team, list teams or span the organisation.
 */
export function authenticator(options: { tokens: Map<string, Access>; provider: OpenIdProvider | undefined; sessions: SessionStore }) {
  const { provider, sessions } = options;
  const fromToken = staticTokens(options.tokens);
  const renewing = new Map<string, Promise<Session | undefined>>();

  /** A session whose access token expired: renewed once per process at a time; undefined when the provider's session has ended. */
  const renewed = (id: string, session: Session) => {
    let pending = renewing.get(id);
    if (!pending) {
      pending = (async () => {
        const renewal = await provider?.renew(session);
        if (!renewal) {
          // Another replica may have renewed it meanwhile (a refresh token is used once).
          const current = await sessions.get(id);
          if (current && current.expiresAt > Date.now()) return current;
          await sessions.end(id);
          return undefined;
        }
        const next = { ...renewal, csrf: session.csrf };
        await sessions.save(id, next);
        return next;
      })().finally(() => renewing.delete(id));
      renewing.set(id, pending);
    }
    return pending;
  };

  async function identify(request: FastifyRequest): Promise<Identification> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (!bearer) return { refused: 'expected Authorization: Bearer <token>' };
      const principal = fromToken(bearer) ?? (provider && JWT.test(bearer) ? await provider.verifyAccessToken(bearer) : undefined);
      return principal ? { principal } : { refused: provider ? 'unknown API token, or an access token that does not check (signature, issuer, audience, expiry) or gives no role' : 'unknown API token' };
    }
    const id = request.cookies[SESSION_COOKIE];
    if (!id) return undefined;
    let session = await sessions.get(id);
    if (session && session.expiresAt <= Date.now()) session = await renewed(id, session);
    return session ? { principal: session.principal, session: { id, session } } : { refused: 'the session has ended; sign in again' };
  }

  /** Identifies the request (onRequest, before validation): 401 without valid credentials, 403 for a role too low or a missing anti-CSRF header. */
  const guard =
    (route: RouteContract): onRequestAsyncHookHandler =>
    async (request, reply) => {
      const identified = await identify(request);
      if (!identified || 'refused' in identified) {
        const message = identified?.refused ?? 'missing credentials: Authorization: Bearer <token>, or sign in to the dashboard';
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message });
      }
      const { principal, session } = identified;
      // A cross-site form or script can make the browser send the cookie, but not this header.
      if (session && !SAFE_METHODS.has(request.method) && !sameSecret(request.headers[CSRF_HEADER] as string | undefined, session.session.csrf)) {
        return reply.code(403).send({ error: 'forbidden', message: `a request made with the session cookie that changes something needs the ${CSRF_HEADER} header (GET /auth/session gives its value)` });
      }
      if (route.access !== 'public' && ROLE_RANK[principal.role] < ROLE_RANK[route.access]) {
        return reply.code(403).send({ error: 'forbidden', message: `this endpoint needs the ${route.access} role; ${principal.display} has ${principal.role}` });
      }
      if (route.teamScope === 'organisation' && principal.teams !== null) return outOfScope(reply, principal, 'the organisation as a whole');
      request.principal = principal;
      request.session = session;
    };

  /** The team a `team` route answers for, or the one a `teams` list is narrowed to, must be the principal's (preHandler: after validation and defaults). */
  const teamCheck =
    (route: RouteContract): preHandlerAsyncHookHandler =>
    async (request, reply) => {
      const principal = request.principal;
      if (!principal || principal.teams === null || (route.teamScope !== 'team' && route.teamScope !== 'teams')) return;
      const asked = (request.params as { team?: string } | undefined)?.team ?? (request.query as { team?: string } | undefined)?.team;
      if (asked === undefined && route.teamScope === 'teams') return;
      const team = asked ?? 'all';
      if (!readsTeam(principal, team)) return outOfScope(reply, principal, team === 'all' ? 'team all (the organisation)' : `team ${team}`);
    };

  return { identify, guard, teamCheck };
}
export type Authenticator = ReturnType<typeof authenticator>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for every route that needs credentials, before its handler runs. */
    principal?: Principal;
    /** The dashboard session the request came with (cookie). */
    session?: { id: string; session: Session };
  }
}
